import { Ajv } from 'ajv';
import { CronExpressionParser } from 'cron-parser';
import type { FlowSchedule, FlowVariable } from '../../domain/flows.js';
import type { JsonObject } from '../../domain/models.js';
import { AppError, validationError } from '../../errors.js';
import { checkVariables } from './flow-variables.js';

/**
 * The checks a flow's definition passes before it is stored (the schema checks shapes): its
 * output schema compiles, its variables are named once with defaults of their type, and each
 * schedule's cron and timezone are valid; a schedule's `next_run_at` is computed here.
 */

/**
 * The output schema's validator; 422 at `loc` when it is not a JSON Schema ajv can compile. A
 * fresh ajv each time: one shared instance refuses a second schema with the same `$id`, and
 * flows of different organisations may well reuse one. No `$ref` outside the schema resolves.
 */
export function compileOutputSchema(schema: JsonObject, loc: (string | number)[]) {
  try {
    return new Ajv({ allErrors: true, strict: false }).compile(schema);
  } catch (error) {
    throw validationError(loc, `output_schema is not a valid JSON Schema: ${(error as Error).message}`);
  }
}

/** What an answer fails in the schema, one line per problem; empty when it conforms. */
export function outputProblems(validate: ReturnType<typeof compileOutputSchema>, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`.trim());
}

export function checkVariableDefinitions(variables: FlowVariable[]): void {
  const seen = new Set<string>();
  variables.forEach((variable, index) => {
    if (seen.has(variable.name)) throw validationError(['body', 'variables', index, 'name'], 'duplicate variable name');
    seen.add(variable.name);
    if (variable.default !== null && variable.default !== undefined) {
      const issues = checkVariables([variable], { [variable.name]: variable.default }, ['body', 'variables', index]);
      if (issues.length > 0)
        throw validationError(['body', 'variables', index, 'default'], `default must be of type ${variable.type}`);
    }
  });
}

/** A timezone name the runtime knows (IANA), or 422. */
function checkTimezone(timezone: string, loc: (string | number)[]): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw validationError(loc, `unknown timezone ${JSON.stringify(timezone)} (an IANA name such as Europe/Paris)`);
  }
}

/** The schedules with their ids and next slots after `now`; 422 on a bad cron or timezone. */
export function prepareSchedules(
  schedules: { cron: string; timezone?: string | undefined; variables?: JsonObject | undefined }[],
  input: { now: Date; newId: () => string; variables: FlowVariable[] },
): FlowSchedule[] {
  return schedules.map((schedule, index) => {
    const loc = ['body', 'schedules', index];
    const timezone = schedule.timezone ?? 'UTC';
    checkTimezone(timezone, [...loc, 'timezone']);
    let next: string;
    try {
      next = CronExpressionParser.parse(schedule.cron, { tz: timezone, currentDate: input.now }).next().toISOString()!;
    } catch (error) {
      throw validationError([...loc, 'cron'], `invalid cron expression: ${(error as Error).message}`);
    }
    const variables = schedule.variables ?? {};
    const issues = checkVariables(input.variables, variables, [...loc, 'variables']);
    if (issues.length > 0) throw new AppError('validation_error', { issues });
    return { id: input.newId(), cron: schedule.cron, timezone, variables, next_run_at: next };
  });
}
