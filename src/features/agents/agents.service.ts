import { randomBytes } from 'node:crypto';
import { AppError, validationError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { Agent, AgentChanges, JsonObject, Page } from '../../domain/models.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { findTemplate } from './templates.js';

export interface CreateAgentInput {
  name: string;
  configuration: JsonObject;
  template_id: string;
  description?: string | null | undefined;
  avatar_url?: string | null | undefined;
  metadata?: JsonObject | undefined;
  status?: string | undefined;
  team_id?: string[] | null | undefined;
}

const BOT_SUB_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A 29-character identifier shaped like the hosted service's `bot_sub`. */
function newBotSub(): string {
  return Array.from(randomBytes(29), (byte) => BOT_SUB_ALPHABET[byte % BOT_SUB_ALPHABET.length]).join('');
}

export class AgentsService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      /** Where the agents' knowledge files' bytes are (removed with the agent). */
      files: { remove(key: string): Promise<void> };
    },
  ) {}

  async create(input: {
    organizationId: string;
    body: CreateAgentInput;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<Agent> {
    const { store, clock, newId } = this.dependencies;
    const template = findTemplate(input.body.template_id);
    if (!template) {
      throw validationError(
        ['body', 'template_id'],
        'Unknown template: see GET /api/v1/templates',
        'template_not_found',
      );
    }
    const now = clock.now().toISOString();
    const { body } = input;
    return store.write(
      (writers) =>
        writers.agents.insert({
          id: newId(),
          organization_id: input.organizationId,
          template_id: template.id,
          name: body.name,
          description: body.description ?? null,
          avatar_url: body.avatar_url ?? null,
          configuration: { ...template.configuration, ...body.configuration },
          metadata: body.metadata ?? {},
          status: body.status ?? 'active',
          team_id: body.team_id ?? null,
          bot_sub: newBotSub(),
          created_at: now,
          updated_at: now,
        }),
      { idempotency: input.idempotency },
    );
  }

  list(input: { organizationId: string; status?: string | undefined } & Page): Promise<Agent[]> {
    return this.dependencies.store.agents.list(input);
  }

  async require(input: { organizationId: string; id: string }): Promise<Agent> {
    const agent = await this.dependencies.store.agents.get(input);
    if (!agent) throw new AppError('agent_not_found');
    return agent;
  }

  async update(input: { organizationId: string; id: string; changes: AgentChanges }): Promise<Agent> {
    const now = this.dependencies.clock.now().toISOString();
    const agent = await this.dependencies.store.write((writers) => writers.agents.update({ ...input, now }));
    if (!agent) throw new AppError('agent_not_found');
    return agent;
  }

  /**
   * Deletes the agent with everything it has (cascades) and its files' jobs, then the files' bytes. Bytes left by a
   * crash between the two are unowned, and the storage sweep removes them (file-storage.ts).
   */
  async delete(input: { organizationId: string; id: string }): Promise<void> {
    const storageKeys = await this.dependencies.store.write(async (writers) => {
      const files = await writers.agentFiles.ofAgent({ organizationId: input.organizationId, agentId: input.id });
      if (!(await writers.agents.delete(input))) return null;
      // Jobs name their subject by id only (the queue is generic): they go with the files here.
      await writers.jobs.deleteForSubjects({ organizationId: input.organizationId, subjectIds: files.ids });
      return files.storageKeys;
    });
    if (!storageKeys) throw new AppError('agent_not_found');
    for (const key of storageKeys) await this.dependencies.files.remove(key);
  }
}
