import type { Tool } from '../tool.js';

export const currentTimeTool: Tool = {
  name: 'current_time',
  description: 'Returns the current date and time, in UTC or in the given IANA time zone (e.g. "Europe/Paris").',
  inputSchema: {
    type: 'object',
    properties: { timezone: { type: 'string', maxLength: 64, description: 'IANA time zone; UTC when absent.' } },
    additionalProperties: false,
  },
  async execute(input, context) {
    const timezone = typeof input.timezone === 'string' && input.timezone !== '' ? input.timezone : 'UTC';
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
