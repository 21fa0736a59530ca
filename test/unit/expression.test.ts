import { describe, expect, it } from 'vitest';
import { evaluateExpression, ExpressionError } from '../../src/tools/builtin/expression.js';

describe('evaluateExpression', () => {
  it.each([
    ['17*23', 391],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['2 ** 10', 1024],
    ['-3 + +5', 2],
    ['--4', 4],
    ['10 % 4', 2],
    ['7 / 2', 3.5],
    ['.5 + 1.25e1', 13],
    ['sqrt(16) + abs(-2)', 6],
    ['max(1, 7, 3) - min(4, 2)', 5],
    ['round(pi * 100) / 100', 3.14],
    ['6 × 7 ÷ 2', 21],
    ['-2 ^ 2', 4],
  ])('%s = %d', (source, expected) => {
    expect(evaluateExpression(source)).toBeCloseTo(expected, 10);
  });

  it.each([
    ['', 'The expression is empty'],
    ['1 +', 'The expression ends too early'],
    ['(1 + 2', 'Expected ")"'],
    ['1 / 0', 'Division by zero'],
    ['2 $ 3', 'Unexpected character "$" at position 3'],
    ['process.exit(1)', 'Unexpected character "."'],
    ['constructor', 'Unknown name "constructor"'],
    ['__proto__', 'Unknown name "__proto__"'],
    ['sqrt(1, 2)', 'sqrt() takes 1 argument(s)'],
    ['10 ^ 400', 'The result is not a finite number'],
    ['1 2', 'Unexpected "2" at position 3'],
  ])('rejects %j', (source, message) => {
    expect(() => evaluateExpression(source)).toThrow(ExpressionError);
    expect(() => evaluateExpression(source)).toThrow(message);
  });

  it('refuses over-long and over-deep input without blowing the stack', () => {
    expect(() => evaluateExpression('1+'.repeat(300) + '1')).toThrow('longer than 500');
    expect(() => evaluateExpression('('.repeat(200) + '1' + ')'.repeat(200))).toThrow('nested too deeply');
    expect(() => evaluateExpression('-'.repeat(150) + '1')).toThrow('nested too deeply');
  });
});
