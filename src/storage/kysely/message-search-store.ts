import { sql } from 'kysely';
import type { MessageMatch, ThreadMatch } from '../../domain/message-search.js';
import type { Executor } from './executor.js';
import {
  messageFullTextIndex,
  type CandidateCut,
  type HighlightedMessage,
  type MessageFullTextIndex,
} from './message-full-text.js';

interface SearchQuery {
  organizationId: string;
  /** Sanitised search terms (src/knowledge/query-terms.ts), at least one. */
  terms: readonly string[];
  limit: number;
  offset: number;
}

interface MatchRow {
  id: string;
  thread_id: string;
  agent_id: string;
  role: string;
  created_at: string;
  relevance: number | string;
}

/** relevance / (1 + relevance): 0..1, the order kept. */
function rankOf(relevance: number | string): number {
  const value = Number(relevance);
  return value / (1 + value);
}

function matchRowToMatch(row: MatchRow): MessageMatch & { agent_id: string } {
  return {
    message_id: row.id,
    thread_id: row.thread_id,
    agent_id: row.agent_id,
    role: row.role,
    created_at: row.created_at,
    rank: rankOf(row.relevance),
  };
}

/** The fewest best matches joined before the filters (see `messages` and `threads`). */
const MIN_CANDIDATES = 256;

function groupByThread(rows: (MatchRow & { best: number | string })[]): ThreadMatch[] {
  const threads = new Map<string, ThreadMatch>();
  for (const row of rows) {
    let thread = threads.get(row.thread_id);
    if (!thread) {
      thread = { thread_id: row.thread_id, rank: rankOf(row.best), matches: [] };
      threads.set(row.thread_id, thread);
    }
    const { agent_id: _agent, ...match } = matchRowToMatch(row);
    thread.matches.push(match);
  }
  return [...threads.values()];
}

/**
 * Full-text search over chat messages (docs/search.md). Every statement names the organisation
 * (in the index's scope on SQLite, in the row filter everywhere) and joins each message to its
 * thread in that organisation; ties are broken by id, so pages are stable.
 */
export class MessageSearchReader {
  readonly #fullText: MessageFullTextIndex;

  constructor(
    private readonly db: Executor,
    dialect: 'sqlite' | 'postgres',
  ) {
    this.#fullText = messageFullTextIndex(dialect);
  }

  /**
   * The organisation's matching messages, best first, optionally of one agent and one role. The
   * best `max(4 × (offset + limit), 256)` matches are joined and filtered; when fewer than a page
   * survive (a filter dropped them, or there are fewer matches), it runs again on every match.
   */
  async messages(
    input: SearchQuery & { agentId?: string | undefined; role?: string | undefined },
  ): Promise<(MessageMatch & { agent_id: string })[]> {
    const candidates = Math.max(4 * (input.offset + input.limit), MIN_CANDIDATES);
    const rows = await this.#messages({ ...input, candidates });
    return (rows.length < input.limit ? await this.#messages({ ...input, candidates: null }) : rows).map(
      matchRowToMatch,
    );
  }

  async #messages(
    input: SearchQuery & CandidateCut & { agentId?: string | undefined; role?: string | undefined },
  ): Promise<MatchRow[]> {
    const agent = input.agentId === undefined ? sql`` : sql`and t.agent_id = ${input.agentId}`;
    const role = input.role === undefined ? sql`` : sql`and m.role = ${input.role}`;
    const result = await sql<MatchRow>`
      select m.id, m.thread_id, t.agent_id, m.role, m.created_at, m.relevance
      from (${this.#fullText.matches(input)}) m
      join chat_threads t on t.id = m.thread_id
      where t.organization_id = ${input.organizationId} ${agent} ${role}
      order by m.relevance desc, m.id
      limit ${input.limit} offset ${input.offset}`.execute(this.db);
    return result.rows;
  }

  /**
   * The agent's threads with a matching message, best first by their best message (ties by
   * thread id), each with up to `matchesPerThread` of its best messages. Threads rank by their
   * best message, so the page's threads are those first met in the best
   * `max(8 × (offset + limit), 256)` matches, which are all that is joined; when they hold fewer
   * than a page of the agent's threads, it runs again on every match. A thread's further matches
   * are those among the same candidates (its best one always is).
   */
  async threads(input: SearchQuery & { agentId: string; matchesPerThread: number }): Promise<ThreadMatch[]> {
    const candidates = Math.max(8 * (input.offset + input.limit), MIN_CANDIDATES);
    const rows = await this.#threads({ ...input, candidates });
    const found = groupByThread(rows);
    return found.length < input.limit ? groupByThread(await this.#threads({ ...input, candidates: null })) : found;
  }

  async #threads(input: SearchQuery & CandidateCut & { agentId: string; matchesPerThread: number }) {
    const result = await sql<MatchRow & { best: number | string }>`
      with scoped as materialized (
        select m.id, m.thread_id, t.agent_id, m.role, m.created_at, m.relevance
        from (${this.#fullText.matches(input)}) m
        join chat_threads t on t.id = m.thread_id
        where t.organization_id = ${input.organizationId} and t.agent_id = ${input.agentId}
      ),
      page as (
        select thread_id, max(relevance) as best from scoped group by thread_id
        order by best desc, thread_id limit ${input.limit} offset ${input.offset}
      ),
      ranked as (
        select s.*, p.best, row_number() over (partition by s.thread_id order by s.relevance desc, s.id) as position
        from scoped s join page p on p.thread_id = s.thread_id
      )
      select id, thread_id, agent_id, role, created_at, relevance, best from ranked
      where position <= ${input.matchesPerThread}
      order by best desc, thread_id, position`.execute(this.db);
    return result.rows;
  }

  /** The text of these matched messages, marked where it matches (src/domain/snippets.ts), by id. */
  async highlight(input: {
    organizationId: string;
    terms: readonly string[];
    messageIds: readonly string[];
  }): Promise<Map<string, HighlightedMessage>> {
    const rows = await this.#fullText.highlight(this.db, input);
    return new Map(rows.map((row) => [row.id, row]));
  }
}
