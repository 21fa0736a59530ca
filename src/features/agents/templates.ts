import type { JsonObject } from '../../domain/models.js';

/**
 * Built-in agent templates. Their ids are fixed so clients can hard-code them, as they do with
 * the hosted service's templates. An agent's configuration starts as its template's, with the
 * keys given at creation laid over it.
 */
export interface AgentTemplate {
  id: string;
  name: string;
  description: string;
  configuration: JsonObject;
}

export const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';
export const SUPPORT_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000002';

export const AGENT_TEMPLATES: readonly AgentTemplate[] = Object.freeze([
  {
    id: BLANK_TEMPLATE_ID,
    name: 'Blank agent',
    description: 'A general assistant with no tools. Uses the offline demo model until you set another.',
    configuration: {
      model: 'demo',
      instructions: 'You are a helpful assistant.',
      temperature: 0.7,
      max_steps: 5,
    },
  },
  {
    id: SUPPORT_TEMPLATE_ID,
    name: 'Support agent',
    description: 'A customer-support agent that can tell the time and do arithmetic.',
    configuration: {
      model: 'demo',
      instructions:
        'You are a customer support agent. Answer clearly and briefly, ask for details when a request is ambiguous, and never invent policies.',
      role: 'Customer support agent',
      goal: 'Resolve customer questions quickly and accurately',
      tone: 'Professional',
      communication_style: 'FORMAL',
      temperature: 0.3,
      max_steps: 5,
      tools: ['current_time', 'calculator'],
    },
  },
]);

export function findTemplate(id: string): AgentTemplate | undefined {
  return AGENT_TEMPLATES.find((template) => template.id === id.toLowerCase());
}
