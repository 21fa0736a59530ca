import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The lint is what keeps regexes over user and model text linear (issue 7, class 1): it must
 * refuse, in src/, the two regexes that blocked the loop (M1) and the suggestions regex (H1).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

async function regexpFindings(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, 'src/models/lint-probe.ts') });
  return (result?.messages ?? []).flatMap((message) =>
    message.ruleId?.startsWith('regexp/no-super-linear') ? [message.ruleId] : [],
  );
}

describe('the regex lint of src/', () => {
  it.each([
    ['the arithmetic regex', String.raw`/[-+(]*\s*[\d.]+(?:\s*(?:[-+*/%^×÷]|\*\*)\s*[-+(]*\s*[\d.]+\s*\)*)+/`],
    ['the calculation cue', String.raw`/\b(?:calculate|what is)\b\s*:?\s*(.+)$/i`],
    ['the suggestions block', String.raw`/\s*<suggestions>[\s\S]*?<\/suggestions>\s*/g`],
    ['a trailing-slash trim', String.raw`/\/+$/`],
  ])('refuses %s', async (_name, regex) => {
    expect(await regexpFindings(`export const pattern = ${regex};\n`)).not.toEqual([]);
  });

  it('accepts a linear one', async () => {
    expect(await regexpFindings(String.raw`export const pattern = /^(\d{1,15})(?:\.(\d{1,9}))?$/;` + '\n')).toEqual([]);
  });
});
