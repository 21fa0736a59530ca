import type { Flow, FlowChanges, FlowVariable, RetryConfig } from '../../domain/flows.js';
import type { JsonObject, Page, Priority } from '../../domain/models.js';
import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { checkVariableDefinitions, compileOutputSchema, prepareSchedules } from './flow-definition.js';

/** A flow's definition as the API takes it (FlowCreate; FlowUpdate has every field optional). */
export interface FlowDefinitionInput {
  name?: string | undefined;
  description?: string | null | undefined;
  instructions?: string | undefined;
  variables?: { name: string; type: FlowVariable['type']; required: boolean; default?: unknown }[] | undefined;
  tools?: string[] | undefined;
  output_schema?: JsonObject | null | undefined;
  timeout_seconds?: number | null | undefined;
  priority?: Priority | null | undefined;
  retry_config?: RetryConfig | null | undefined;
  schedules?: { cron: string; timezone?: string | undefined; variables?: JsonObject | undefined }[] | undefined;
  metadata?: JsonObject | undefined;
}

/** Flows CRUD (docs/flows.md): under an agent of the caller's organisation; another's is 404. */
export class FlowsService {
  constructor(private readonly dependencies: { store: Store; clock: Clock; newId: IdGenerator }) {}

  async create(input: {
    organizationId: string;
    agentId: string;
    body: FlowDefinitionInput & { name: string; instructions: string };
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<Flow> {
    const { store, clock, newId } = this.dependencies;
    await this.#requireAgent(input.organizationId, input.agentId);
    const now = clock.now();
    const changes = this.#checked(input.body, now, []);
    const stamp = now.toISOString();
    const flow: Flow = {
      id: newId(),
      organization_id: input.organizationId,
      agent_id: input.agentId,
      name: input.body.name,
      description: changes.description ?? null,
      instructions: input.body.instructions,
      variables: changes.variables ?? [],
      tools: changes.tools ?? [],
      output_schema: changes.output_schema ?? null,
      timeout_seconds: changes.timeout_seconds ?? null,
      priority: changes.priority ?? null,
      retry_config: changes.retry_config ?? null,
      schedules: changes.schedules ?? [],
      metadata: changes.metadata ?? {},
      created_at: stamp,
      updated_at: stamp,
    };
    return store.write((writers) => writers.flows.insert(flow), { idempotency: input.idempotency });
  }

  async list(input: { organizationId: string; agentId: string; page: Page }): Promise<Flow[]> {
    await this.#requireAgent(input.organizationId, input.agentId);
    return this.dependencies.store.flows.list({ ...input, ...input.page });
  }

  async get(input: { organizationId: string; agentId: string; id: string }): Promise<Flow> {
    await this.#requireAgent(input.organizationId, input.agentId);
    const flow = await this.dependencies.store.flows.get(input);
    if (!flow) throw new AppError('flow_not_found');
    return flow;
  }

  async update(input: { organizationId: string; agentId: string; id: string; body: FlowDefinitionInput }) {
    const { store, clock } = this.dependencies;
    const current = await this.get(input);
    const now = clock.now();
    const changes = this.#checked(input.body, now, input.body.variables === undefined ? current.variables : []);
    const updated = await store.write((writers) => writers.flows.update({ ...input, changes, now: now.toISOString() }));
    if (!updated) throw new AppError('flow_not_found');
    return updated;
  }

  async delete(input: { organizationId: string; agentId: string; id: string }): Promise<void> {
    await this.#requireAgent(input.organizationId, input.agentId);
    const deleted = await this.dependencies.store.write((writers) => writers.flows.delete(input));
    if (!deleted) throw new AppError('flow_not_found');
  }

  /**
   * The body's changes, checked (422 otherwise): output schema compiles, variables well declared,
   * schedules valid (their variables checked against the new declarations, else `current`).
   */
  #checked(body: FlowDefinitionInput, now: Date, current: FlowVariable[]): FlowChanges {
    const variables = body.variables?.map((variable) => ({ ...variable, default: variable.default ?? null }));
    if (variables) checkVariableDefinitions(variables);
    if (body.output_schema) compileOutputSchema(body.output_schema, ['body', 'output_schema']);
    const declared = variables ?? current;
    const { newId } = this.dependencies;
    const schedules = body.schedules && prepareSchedules(body.schedules, { now, newId, variables: declared });
    const { schedules: _given, variables: _declared, ...plain } = body;
    return {
      ...plain,
      ...(variables ? { variables } : {}),
      ...(schedules ? { schedules } : {}),
    } as FlowChanges;
  }

  async #requireAgent(organizationId: string, agentId: string): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId, id: agentId });
    if (!agent) throw new AppError('agent_not_found');
  }
}
