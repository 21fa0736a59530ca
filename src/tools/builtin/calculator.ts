import type { Tool } from '../tool.js';
import { evaluateExpression, MAX_EXPRESSION_LENGTH } from './expression.js';

export const calculatorTool: Tool = {
  name: 'calculator',
  description:
    'Evaluates an arithmetic expression: + - * / % ^, parentheses, pi, e, and sqrt, abs, round, floor, ceil, ln, log10, exp, sin, cos, tan, min, max, pow.',
  inputSchema: {
    type: 'object',
    properties: {
      expression: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_EXPRESSION_LENGTH,
        description: 'For example "17*23".',
      },
    },
    required: ['expression'],
    additionalProperties: false,
  },
  async execute(input) {
    const expression = String(input.expression);
    return { expression, result: evaluateExpression(expression) };
  },
};
