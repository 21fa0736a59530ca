import {
  AGENT_FILES_SHOWN,
  type AgentFile,
  type AgentFileMetadata,
  type NewAgentFile,
  type StoredAgentFile,
} from '../../domain/agent-files.js';
import {
  INSERTED_COLUMNS,
  insertedValues,
  latestJobId,
  rowToAgentFile,
  rowToStoredAgentFile,
} from './agent-file-rows.js';
import type { Page } from '../../domain/models.js';
import type { Executor } from './executor.js';

export interface AgentFileKey {
  organizationId: string;
  agentId: string;
  id: string;
}

export type InsertAgentFileResult =
  { kind: 'created'; file: StoredAgentFile } | { kind: 'agent_not_found' } | { kind: 'quota_exceeded' };

export class AgentFileReader {
  constructor(private readonly db: Executor) {}

  #files() {
    return this.db.selectFrom('agent_files').selectAll('agent_files').select(latestJobId);
  }

  async get(input: AgentFileKey): Promise<StoredAgentFile | null> {
    const row = await this.#files()
      .where('agent_files.organization_id', '=', input.organizationId)
      .where('agent_files.agent_id', '=', input.agentId)
      .where('agent_files.id', '=', input.id)
      .executeTakeFirst();
    return row ? rowToStoredAgentFile(row) : null;
  }

  /** A file by its id alone, in its organisation (a job knows its subject's id only). */
  async find(input: { organizationId: string; id: string }): Promise<StoredAgentFile | null> {
    const row = await this.#files()
      .where('agent_files.organization_id', '=', input.organizationId)
      .where('agent_files.id', '=', input.id)
      .executeTakeFirst();
    return row ? rowToStoredAgentFile(row) : null;
  }

  /** One page of the agent's files, newest first (ties by id). */
  async list(input: { organizationId: string; agentId: string } & Page): Promise<AgentFile[]> {
    const rows = await this.#files()
      .where('agent_files.organization_id', '=', input.organizationId)
      .where('agent_files.agent_id', '=', input.agentId)
      .orderBy('agent_files.created_at', 'desc')
      .orderBy('agent_files.id', 'desc')
      .limit(input.limit)
      .offset(input.offset)
      .execute();
    return rows.map(rowToAgentFile);
  }

  async count(input: { organizationId: string; agentId: string }): Promise<number> {
    const row = await this.db
      .selectFrom('agent_files')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** The agent's files with these ids (search hits name them), in no particular order. */
  async withIds(input: { organizationId: string; agentId: string; ids: readonly string[] }): Promise<AgentFile[]> {
    if (input.ids.length === 0) return [];
    const rows = await this.#files()
      .where('agent_files.organization_id', '=', input.organizationId)
      .where('agent_files.agent_id', '=', input.agentId)
      .where('agent_files.id', 'in', [...input.ids])
      .execute();
    return rows.map(rowToAgentFile);
  }

  /**
   * `Agent.files` of several agents in one query: each agent's newest AGENT_FILES_SHOWN files,
   * newest first, by agent id.
   */
  async ofAgents(input: { organizationId: string; agentIds: readonly string[] }): Promise<Map<string, AgentFile[]>> {
    const byAgent = new Map<string, AgentFile[]>(input.agentIds.map((id) => [id, []]));
    if (input.agentIds.length === 0) return byAgent;
    const rows = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('agent_files')
          .selectAll('agent_files')
          .select(latestJobId)
          .select((inner) =>
            inner.fn
              .agg<number>('row_number')
              .over((over) =>
                over
                  .partitionBy('agent_files.agent_id')
                  .orderBy('agent_files.created_at', 'desc')
                  .orderBy('agent_files.id', 'desc'),
              )
              .as('position'),
          )
          .where('agent_files.organization_id', '=', input.organizationId)
          .where('agent_files.agent_id', 'in', [...input.agentIds])
          .as('ranked'),
      )
      .selectAll()
      .where('position', '<=', AGENT_FILES_SHOWN)
      .orderBy('position', 'asc')
      .execute();
    for (const { position: _position, ...row } of rows) byAgent.get(row.agent_id)?.push(rowToAgentFile(row));
    return byAgent;
  }

  /** Bytes the organisation's files take (the quota counts `size`). */
  async usedBytes(input: { organizationId: string }): Promise<number> {
    const row = await this.db
      .selectFrom('agent_files')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('size'), eb.lit(0)).as('used'))
      .where('organization_id', '=', input.organizationId)
      .executeTakeFirstOrThrow();
    return Number(row.used);
  }

  /** Which of these storage keys belong to a file row (of any organisation): the orphan sweep's check. */
  async ownedKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('agent_files')
      .select('storage_key')
      .where('storage_key', 'in', [...keys])
      .execute();
    return new Set(rows.map((row) => row.storage_key).filter((key): key is string => key !== null));
  }

  /** The ids of an agent's files and the storage keys of its uploads (what goes with the agent). */
  async ofAgent(input: { organizationId: string; agentId: string }): Promise<{ ids: string[]; storageKeys: string[] }> {
    const rows = await this.db
      .selectFrom('agent_files')
      .select(['id', 'storage_key'])
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .execute();
    return {
      ids: rows.map((row) => row.id),
      storageKeys: rows.map((row) => row.storage_key).filter((key): key is string => key !== null),
    };
  }

  /** URL files of every organisation last indexed before `before` (the periodic re-crawl). */
  async dueForRecrawl(input: { before: string; limit: number }): Promise<StoredAgentFile[]> {
    const rows = await this.#files()
      .where('agent_files.source', '=', 'url')
      .where('agent_files.indexed_at', 'is not', null)
      .where('agent_files.indexed_at', '<', input.before)
      .orderBy('agent_files.indexed_at', 'asc')
      .limit(input.limit)
      .execute();
    return rows.map(rowToStoredAgentFile);
  }
}

export class AgentFileWriter {
  readonly #reader: AgentFileReader;

  constructor(private readonly db: Executor) {
    this.#reader = new AgentFileReader(db);
  }

  get(input: AgentFileKey): Promise<StoredAgentFile | null> {
    return this.#reader.get(input);
  }

  find(input: { organizationId: string; id: string }): Promise<StoredAgentFile | null> {
    return this.#reader.find(input);
  }

  /**
   * Inserts the file (`processing`) only if its agent exists in the organisation and, when
   * `quotaBytes` is above 0, the organisation's files and this one fit in it — in one statement,
   * so two uploads at once cannot both pass a check made before either was written.
   */
  async insert(file: NewAgentFile, options: { quotaBytes: number }): Promise<InsertAgentFileResult> {
    const result = await this.db
      .insertInto('agent_files')
      .columns(INSERTED_COLUMNS)
      .expression((eb) =>
        eb
          .selectFrom('agents')
          .select((inner) => insertedValues(inner, file))
          .where('agents.id', '=', file.agent_id)
          .where('agents.organization_id', '=', file.organization_id)
          .$if(options.quotaBytes > 0, (query) =>
            query.where(
              (inner) =>
                inner
                  .selectFrom('agent_files as existing')
                  .select((sub) => sub.fn.coalesce(sub.fn.sum<number>('existing.size'), sub.lit(0)).as('used'))
                  .where('existing.organization_id', '=', file.organization_id),
              '<=',
              options.quotaBytes - file.size,
            ),
          ),
      )
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) {
      const created = await this.#reader.find({ organizationId: file.organization_id, id: file.id });
      if (created) return { kind: 'created', file: created };
    }
    const agent = await this.db
      .selectFrom('agents')
      .select('id')
      .where('id', '=', file.agent_id)
      .where('organization_id', '=', file.organization_id)
      .executeTakeFirst();
    return agent ? { kind: 'quota_exceeded' } : { kind: 'agent_not_found' };
  }

  /**
   * A (re-)index asked for: a file that has no ready generation is `processing` again (its old
   * error cleared); a ready one stays ready — and searchable — until the new index replaces it.
   */
  async reopen(input: AgentFileKey & { now: string }): Promise<void> {
    await this.db
      .updateTable('agent_files')
      .set((eb) => ({
        status: eb.case().when('ready_generation', '>', 0).then('ready').else('processing').end(),
        error_message: null,
        updated_at: input.now,
      }))
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .execute();
  }

  /**
   * Starts an indexing attempt: the next generation number, which the attempt writes its chunks
   * under (search keeps seeing `ready_generation`). Null when the file is gone.
   */
  async beginBuild(input: { organizationId: string; id: string; now: string }): Promise<StoredAgentFile | null> {
    await this.db
      .updateTable('agent_files')
      .set((eb) => ({ building_generation: eb('building_generation', '+', 1), updated_at: input.now }))
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
    return this.#reader.find(input);
  }

  /**
   * The attempt's index becomes the one search sees, and the file `ready` — unless a newer
   * attempt began meanwhile (then false, and nothing changes).
   */
  async finishReady(input: {
    organizationId: string;
    id: string;
    generation: number;
    chunkCount: number;
    textBytes: number;
    metadata: AgentFileMetadata;
    /** What the crawl fetched, for URL files (uploads keep their upload's size). */
    size?: number | undefined;
    now: string;
  }): Promise<boolean> {
    const result = await this.db
      .updateTable('agent_files')
      .set({
        status: 'ready',
        error_message: null,
        ready_generation: input.generation,
        chunk_count: input.chunkCount,
        text_bytes: input.textBytes,
        metadata: JSON.stringify(input.metadata),
        indexed_at: input.now,
        updated_at: input.now,
        ...(input.size === undefined ? {} : { size: input.size }),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('building_generation', '=', input.generation)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * An attempt failed with `message`: a file with a ready index keeps it (and stays `ready`, the
   * message saying why the re-index did not replace it); any other becomes `failed`.
   */
  async markFailed(input: {
    organizationId: string;
    id: string;
    message: string;
    metadata?: AgentFileMetadata | undefined;
    now: string;
  }): Promise<void> {
    await this.db
      .updateTable('agent_files')
      .set((eb) => ({
        status: eb.case().when('ready_generation', '>', 0).then('ready').else('failed').end(),
        error_message: input.message,
        updated_at: input.now,
        ...(input.metadata ? { metadata: JSON.stringify(input.metadata) } : {}),
      }))
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }

  /** Deletes the file (its chunks and their index entries cascade); its storage key, or undefined when there was no such file. */
  async delete(input: AgentFileKey): Promise<{ storageKey: string | null } | undefined> {
    const row = await this.db
      .deleteFrom('agent_files')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .returning('storage_key')
      .executeTakeFirst();
    return row ? { storageKey: row.storage_key } : undefined;
  }

  ofAgent(input: { organizationId: string; agentId: string }): Promise<{ ids: string[]; storageKeys: string[] }> {
    return this.#reader.ofAgent(input);
  }
}
