import { describe, expect, it } from 'vitest';
import { checkVariables, renderInstructions, withDefaults } from '../../src/features/flows/flow-variables.js';
import type { FlowVariable } from '../../src/domain/flows.js';

const declared: FlowVariable[] = [
  { name: 'topic', type: 'string', required: true, default: null },
  { name: 'limit', type: 'number', required: true, default: 3 },
  { name: 'tags', type: 'array', required: false, default: null },
  { name: 'options', type: 'object', required: false, default: null },
  { name: 'strict', type: 'boolean', required: false, default: null },
];

describe('flow variables', () => {
  it('accepts values of their types, a required one with a default left out, and fills defaults', () => {
    const given = { topic: 'otters', tags: ['a'], options: { deep: true }, strict: false };
    expect(checkVariables(declared, given, ['body', 'variables'])).toEqual([]);
    expect(withDefaults(declared, given)).toEqual({ ...given, limit: 3 });
  });

  it('names each problem at its variable', () => {
    expect(checkVariables(declared, { limit: '3', tags: {}, options: [], strict: null, extra: 1 }, ['v'])).toEqual([
      { loc: ['v', 'extra'], msg: 'Unknown variable', type: 'extra_forbidden' },
      { loc: ['v', 'topic'], msg: 'Field required', type: 'missing' },
      { loc: ['v', 'limit'], msg: 'Input should be a valid number', type: 'number_type' },
      { loc: ['v', 'tags'], msg: 'Input should be a valid array', type: 'array_type' },
      { loc: ['v', 'options'], msg: 'Input should be a valid object', type: 'object_type' },
      { loc: ['v', 'strict'], msg: 'Input should be a valid boolean', type: 'boolean_type' },
    ]);
  });

  it('renders strings as they are and other values as JSON, once, leaving unknown placeholders', () => {
    const text = renderInstructions('About {{ topic }}: {{limit}} items, {{tags}}, {{missing}}.', {
      topic: 'the {{limit}} best',
      limit: 3,
      tags: ['x', 'y'],
    });
    expect(text).toBe('About the {{limit}} best: 3 items, ["x","y"], {{missing}}.');
  });
});
