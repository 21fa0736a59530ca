/**
 * A small arithmetic expression evaluator: a tokenizer and a recursive-descent parser over a
 * fixed grammar. It never turns text into code (no eval, no Function).
 *
 *   expression := term (('+' | '-') term)*
 *   term       := power (('*' | '/' | '%') power)*
 *   power      := unary ('^' power)?            right-associative; '**' is accepted for '^'
 *   unary      := ('+' | '-') unary | call
 *   call       := NAME '(' expression (',' expression)* ')' | NAME | NUMBER | '(' expression ')'
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export const MAX_EXPRESSION_LENGTH = 500;
const MAX_DEPTH = 100;

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

const FUNCTIONS: Record<string, { arity: [number, number]; apply: (...values: number[]) => number }> = {
  sqrt: { arity: [1, 1], apply: Math.sqrt },
  abs: { arity: [1, 1], apply: Math.abs },
  round: { arity: [1, 1], apply: Math.round },
  floor: { arity: [1, 1], apply: Math.floor },
  ceil: { arity: [1, 1], apply: Math.ceil },
  ln: { arity: [1, 1], apply: Math.log },
  log10: { arity: [1, 1], apply: Math.log10 },
  exp: { arity: [1, 1], apply: Math.exp },
  sin: { arity: [1, 1], apply: Math.sin },
  cos: { arity: [1, 1], apply: Math.cos },
  tan: { arity: [1, 1], apply: Math.tan },
  min: { arity: [1, 50], apply: Math.min },
  max: { arity: [1, 50], apply: Math.max },
  pow: { arity: [2, 2], apply: Math.pow },
};

type Token =
  | { kind: 'number'; value: number; position: number }
  | { kind: 'name'; value: string; position: number }
  | { kind: 'symbol'; value: string; position: number };

/**
 * Sticky patterns, matched where the tokenizer stands (`lastIndex`), without a slice of the rest
 * of the source per token. Neither can backtrack more than the token it finds.
 */
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?/iy;
const NAME = /[a-z_]\w*/iy;
const SPACE = /\s/;

function stickyMatch(pattern: RegExp, source: string, index: number): string | null {
  pattern.lastIndex = index;
  return pattern.exec(source)?.[0] ?? null;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const character = source[index]!;
    if (SPACE.test(character)) {
      index += 1;
      continue;
    }
    const number = stickyMatch(NUMBER, source, index);
    if (number !== null) {
      tokens.push({ kind: 'number', value: Number(number), position: index });
      index += number.length;
      continue;
    }
    const name = stickyMatch(NAME, source, index);
    if (name !== null) {
      tokens.push({ kind: 'name', value: name.toLowerCase(), position: index });
      index += name.length;
      continue;
    }
    if (source.startsWith('**', index)) {
      tokens.push({ kind: 'symbol', value: '^', position: index });
      index += 2;
      continue;
    }
    const symbol = character === '×' ? '*' : character === '÷' ? '/' : character;
    if ('+-*/%^(),'.includes(symbol)) {
      tokens.push({ kind: 'symbol', value: symbol, position: index });
      index += 1;
      continue;
    }
    throw new ExpressionError(`Unexpected character "${character}" at position ${index + 1}`);
  }
  return tokens;
}

class Parser {
  #index = 0;
  #depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    if (this.tokens.length === 0) throw new ExpressionError('The expression is empty');
    const value = this.#expression();
    const extra = this.tokens[this.#index];
    if (extra) throw new ExpressionError(`Unexpected "${String(extra.value)}" at position ${extra.position + 1}`);
    return value;
  }

  #peekSymbol(...symbols: string[]): string | null {
    const token = this.tokens[this.#index];
    return token?.kind === 'symbol' && symbols.includes(token.value) ? token.value : null;
  }

  #expect(symbol: string): void {
    if (this.#peekSymbol(symbol) === null) {
      const token = this.tokens[this.#index];
      throw new ExpressionError(
        token ? `Expected "${symbol}" at position ${token.position + 1}` : `Expected "${symbol}"`,
      );
    }
    this.#index += 1;
  }

  #nested<T>(parse: () => T): T {
    this.#depth += 1;
    if (this.#depth > MAX_DEPTH) throw new ExpressionError('The expression is nested too deeply');
    try {
      return parse();
    } finally {
      this.#depth -= 1;
    }
  }

  #expression(): number {
    let value = this.#term();
    for (let operator = this.#peekSymbol('+', '-'); operator; operator = this.#peekSymbol('+', '-')) {
      this.#index += 1;
      const right = this.#term();
      value = operator === '+' ? value + right : value - right;
    }
    return value;
  }

  #term(): number {
    let value = this.#power();
    for (let operator = this.#peekSymbol('*', '/', '%'); operator; operator = this.#peekSymbol('*', '/', '%')) {
      this.#index += 1;
      const right = this.#power();
      if ((operator === '/' || operator === '%') && right === 0) throw new ExpressionError('Division by zero');
      value = operator === '*' ? value * right : operator === '/' ? value / right : value % right;
    }
    return value;
  }

  #power(): number {
    const base = this.#unary();
    if (this.#peekSymbol('^') === null) return base;
    this.#index += 1;
    return base ** this.#nested(() => this.#power());
  }

  #unary(): number {
    const sign = this.#peekSymbol('+', '-');
    if (sign) {
      this.#index += 1;
      const value = this.#nested(() => this.#unary());
      return sign === '-' ? -value : value;
    }
    return this.#primary();
  }

  #primary(): number {
    const token = this.tokens[this.#index];
    if (!token) throw new ExpressionError('The expression ends too early');
    this.#index += 1;
    if (token.kind === 'number') return token.value;
    if (token.kind === 'symbol' && token.value === '(') {
      const value = this.#nested(() => this.#expression());
      this.#expect(')');
      return value;
    }
    if (token.kind === 'name') return this.#name(token.value);
    throw new ExpressionError(`Unexpected "${token.value}" at position ${token.position + 1}`);
  }

  #name(name: string): number {
    const fn = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (fn && this.#peekSymbol('(')) {
      this.#index += 1;
      const values = [this.#nested(() => this.#expression())];
      while (this.#peekSymbol(',')) {
        this.#index += 1;
        values.push(this.#nested(() => this.#expression()));
      }
      this.#expect(')');
      if (values.length < fn.arity[0] || values.length > fn.arity[1]) {
        throw new ExpressionError(
          `${name}() takes ${fn.arity[0] === fn.arity[1] ? fn.arity[0] : `${fn.arity[0]} to ${fn.arity[1]}`} argument(s)`,
        );
      }
      return fn.apply(...values);
    }
    if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name]!;
    throw new ExpressionError(`Unknown name "${name}"`);
  }
}

/** Evaluates an arithmetic expression; throws ExpressionError with a readable reason. */
export function evaluateExpression(source: string): number {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(`The expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const value = new Parser(tokenize(source)).parse();
  if (!Number.isFinite(value)) throw new ExpressionError('The result is not a finite number');
  return value;
}
