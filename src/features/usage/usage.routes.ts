import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import type { UsageService } from './usage.service.js';
import { QuotaStatus, QuotaUpdate, UsageFigures, UsageGroup, UsageQuery, UsageReport } from './usage.schemas.js';

const tags = ['usage'];

/** Usage and cost per day, agent or model, and the organisation's quota (docs/usage.md). */
export function registerUsageRoutes(parent: FastifyInstance, dependencies: { usage: UsageService }): void {
  const app = typedApp(parent);
  const { usage } = dependencies;
  for (const schema of [UsageFigures, UsageGroup, UsageReport, QuotaUpdate, QuotaStatus]) app.addSchema(schema);

  app.get('/api/v1/usage', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getUsage',
      summary: 'Tokens and cost of the organisation’s runs, per UTC day, agent or model',
      'x-parley-extension': true,
      querystring: UsageQuery,
      response: { 200: Type.Ref(UsageReport), ...errorResponses() },
    },
    handler: (request) =>
      usage.report({
        organizationId: principalOf(request).organizationId,
        groupBy: request.query.group_by,
        from: request.query.from,
        to: request.query.to,
      }),
  });

  app.get('/api/v1/quota', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getQuota',
      summary: 'The organisation’s token and cost budget and its use this period',
      'x-parley-extension': true,
      response: { 200: Type.Ref(QuotaStatus), ...errorResponses() },
    },
    handler: (request) => usage.quota(principalOf(request).organizationId),
  });

  app.put('/api/v1/quota', {
    config: { scope: 'admin' },
    schema: {
      tags,
      operationId: 'setQuota',
      summary: 'Set the organisation’s token and cost budget per day or month (null: no limit)',
      'x-parley-extension': true,
      body: Type.Ref(QuotaUpdate),
      response: { 200: Type.Ref(QuotaStatus), ...errorResponses() },
    },
    handler: (request) => {
      const body = request.body as typeof QuotaUpdate.static;
      const quota = { period: body.period, max_tokens: body.max_tokens ?? null, max_cost: body.max_cost ?? null };
      return usage.setQuota({ organizationId: principalOf(request).organizationId, quota });
    },
  });
}
