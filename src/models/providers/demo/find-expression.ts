/**
 * Where the demo model finds the arithmetic a user's message asks about: after a cue ("calculate",
 * "what is", …) when the rest of the message is one line, else anywhere. The arithmetic is the
 * leftmost, longest run of numbers joined by operators (`- + * / % ^ × ÷ **`), signs and
 * parentheses, as the two regexes this replaces found it (they are kept as the reference in
 * test/unit/find-expression.test.ts):
 *
 *     cue:        /\b(?:calculate|compute|evaluate|what is|what's|how much is)\b\s*:?\s*(.+)$/i
 *     arithmetic: /[-+(]*\s*[\d.]+(?:\s*(?:[-+*\/%^×÷]|\*\*)\s*[-+(]*\s*[\d.]+\s*\)*)+/
 *
 * Found by scanning, not by those regexes: the arithmetic one retried `[\d.]+` from every digit
 * of a run with no operator after it (32 KiB of "1" blocked the loop 1.3 s: quadratic), and the
 * cue's `\s*:?\s*(.+)$` tried every split of a run of spaces before a line break (4 KiB of spaces
 * after "what is" took 8 s: cubic). Here every character is looked at a bounded number of times.
 */

/** The cue words alone: literal alternatives, so one search is linear in the text. */
const CUE = /\b(?:calculate|compute|evaluate|what is|what's|how much is)\b/gi;
const SPACE = /\s/;
const OPERATORS = '-+*/%^×÷';

const isSpace = (character: string) => SPACE.test(character);
const isNumberCharacter = (character: string) => (character >= '0' && character <= '9') || character === '.';
const isSign = (character: string) => character === '-' || character === '+' || character === '(';
const isClosing = (character: string) => character === ')';

/** The end of the run of characters that pass `test`, from `from`. */
function skip(text: string, from: number, test: (character: string) => boolean): number {
  let index = from;
  while (index < text.length && test(text[index]!)) index += 1;
  return index;
}

/** Where the last line terminator (a character `.` does not match) is; -1 when there is none. */
function lastLineBreak(text: string): number {
  for (let index = text.length - 1; index >= 0; index -= 1) {
    const character = text[index]!;
    if (character === '\n' || character === '\r' || character === '\u2028' || character === '\u2029') return index;
  }
  return -1;
}

/**
 * What follows the first cue whose rest is one line: after the cue, white space, an optional
 * colon and white space, then the rest of the text, which must hold no line break. Null when no
 * cue is followed by such a line (a cue followed by white space only counts as none: the regex
 * captured some of that white space, in which no arithmetic is found either).
 */
function calculationTail(text: string): string | null {
  const lastBreak = lastLineBreak(text);
  const cue = new RegExp(CUE);
  for (let match = cue.exec(text); match !== null; match = cue.exec(text)) {
    let start = skip(text, match.index + match[0].length, isSpace);
    if (text[start] === ':') start += 1;
    start = skip(text, start, isSpace);
    if (start === text.length) return null;
    if (start > lastBreak) return text.slice(start);
    // A line break follows: the regex went on to look for a cue further on.
    cue.lastIndex = match.index + 1;
  }
  return null;
}

/** The end of the first number at or after `from` once white space and signs are passed, or -1. */
function operandEnd(text: string, from: number): number {
  let index = skip(text, from, isSpace);
  index = skip(text, index, isSign);
  index = skip(text, index, isSpace);
  if (index >= text.length || !isNumberCharacter(text[index]!)) return -1;
  return skip(text, index, isNumberCharacter);
}

/**
 * One more "operator operand" after a number ending at `from` (white space, an operator, an
 * operand, then white space and closing parentheses): where it ends, or -1 when none follows.
 */
function nextTerm(text: string, from: number): number {
  let index = skip(text, from, isSpace);
  if (text.startsWith('**', index)) index += 2;
  else if (index < text.length && OPERATORS.includes(text[index]!)) index += 1;
  else return -1;
  const end = operandEnd(text, index);
  if (end < 0) return -1;
  return skip(text, skip(text, end, isSpace), isClosing);
}

/** Where the leftmost arithmetic starts, with the end of its first number; null when none. */
function firstArithmetic(text: string): { start: number; numberEnd: number } | null {
  let start = 0;
  while (start < text.length) {
    // From `start`: signs, white space, then a number must follow.
    const operand = skip(text, skip(text, start, isSign), isSpace);
    if (operand < text.length && isNumberCharacter(text[operand]!)) {
      const numberEnd = skip(text, operand, isNumberCharacter);
      if (nextTerm(text, numberEnd) >= 0) return { start, numberEnd };
      // Every start up to the end of this number reaches the same number, so fails the same way.
      start = numberEnd;
    } else {
      // Every start up to `operand` reaches the same character, which starts no number.
      start = Math.max(operand, start + 1);
    }
  }
  return null;
}

/** The leftmost arithmetic in the text with at least one operator, as the regex matched it; null when none. */
export function findArithmetic(text: string): string | null {
  const first = firstArithmetic(text);
  if (first === null) return null;
  let end = nextTerm(text, first.numberEnd);
  for (let next = nextTerm(text, end); next >= 0; next = nextTerm(text, end)) end = next;
  return text.slice(first.start, end);
}

/** The expression the user's words ask to calculate, trimmed; null when there is none. */
export function expressionIn(content: string): string | null {
  const tail = calculationTail(content);
  const found = (tail === null ? null : findArithmetic(tail)) ?? findArithmetic(content);
  return found === null ? null : found.trim();
}
