import type { Tool } from '../tool.js';

const CURRENT_TIME_INPUT = {
  type: 'object',
  properties: { timezone: { type: 'string', maxLength: 64, description: 'IANA time zone; the default when absent.' } },
  additionalProperties: false,
};

/** The current time in the given IANA zone, else in `defaultTimezone` (a tool's configuration), else UTC. */
export function currentTimeToolWith(defaultTimezone = 'UTC'): Tool {
  return {
    name: 'current_time',
    description: `Returns the current date and time, in ${defaultTimezone} or in the given IANA time zone (e.g. "Europe/Paris").`,
    inputSchema: CURRENT_TIME_INPUT,
    async execute(input, context) {
      const timezone = typeof input.timezone === 'string' && input.timezone !== '' ? input.timezone : defaultTimezone;
      const now = context.now();
      let formatted: string;
      try {
        formatted = new Intl.DateTimeFormat('en-GB', {
          timeZone: timezone,
          dateStyle: 'full',
          timeStyle: 'long',
        }).format(now);
      } catch {
        throw new Error(`Unknown time zone "${timezone}"`);
      }
      return { iso: now.toISOString(), timezone, formatted };
    },
  };
}

export const currentTimeTool: Tool = currentTimeToolWith();
