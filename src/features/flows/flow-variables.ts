import type { FlowVariable, VariableType } from '../../domain/flows.js';
import type { JsonObject } from '../../domain/models.js';
import type { ValidationIssue } from '../../errors.js';

/**
 * An execution's variables against its flow's declarations, and the instructions rendered with
 * them. `{{name}}` (spaces allowed inside the braces) is replaced by the value — strings as they
 * are, anything else as JSON; a placeholder naming no declared variable stays as written.
 */

function typeOf(value: unknown): VariableType | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'object') return type;
  return 'other';
}

/** The problems of `given` (422 issues under `loc`): unknown names, missing required ones, wrong types. */
export function checkVariables(
  declared: FlowVariable[],
  given: JsonObject,
  loc: (string | number)[],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const byName = new Map(declared.map((variable) => [variable.name, variable]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) issues.push({ loc: [...loc, name], msg: 'Unknown variable', type: 'extra_forbidden' });
  }
  for (const variable of declared) {
    const value = given[variable.name];
    if (value === undefined) {
      if (variable.required && (variable.default === null || variable.default === undefined))
        issues.push({ loc: [...loc, variable.name], msg: 'Field required', type: 'missing' });
      continue;
    }
    if (typeOf(value) !== variable.type)
      issues.push({
        loc: [...loc, variable.name],
        msg: `Input should be a valid ${variable.type}`,
        type: `${variable.type}_type`,
      });
  }
  return issues;
}

/** The given variables with the declared defaults filled in. */
export function withDefaults(declared: FlowVariable[], given: JsonObject): JsonObject {
  const filled: JsonObject = { ...given };
  for (const variable of declared) {
    if (filled[variable.name] === undefined && variable.default !== null && variable.default !== undefined)
      filled[variable.name] = variable.default as JsonObject[string];
  }
  return filled;
}

const PLACEHOLDER = /\{\{\s*([a-z_]\w*)\s*\}\}/gi;

/** The instructions with each `{{name}}` of a given variable replaced (one pass: values are not re-scanned). */
export function renderInstructions(instructions: string, variables: JsonObject): string {
  return instructions.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.hasOwn(variables, name)) return whole;
    const value = variables[name];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}
