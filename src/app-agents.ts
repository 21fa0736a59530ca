import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { registerAgentRoutes } from './features/agents/agents.routes.js';
import type { AgentsService } from './features/agents/agents.service.js';
import { registerModelRoutes } from './features/models/models.routes.js';
import { registerStudioRoutes } from './features/studio/studio.routes.js';
import type { Idempotency } from './http/idempotency.js';
import { modelCatalog } from './models/catalog.js';

/**
 * The agent family as a person meets it: the agents API, the catalogue of models an agent can
 * name (GET /api/v1/models), and Parley Studio at /studio (docs/studio.md), which edits them.
 */
export function registerAgentFamilies(
  app: FastifyInstance,
  input: { config: Config; agents: AgentsService; idempotency: Idempotency },
): void {
  registerAgentRoutes(app, { agents: input.agents, idempotency: input.idempotency });
  registerModelRoutes(app, { catalog: modelCatalog(input.config.models, input.config.pricing) });
  registerStudioRoutes(app);
}
