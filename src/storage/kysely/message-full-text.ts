import { sql, type RawBuilder } from 'kysely';
import { MARK_CLOSE, MARK_OPEN } from '../../domain/snippets.js';
import type { Executor } from './executor.js';

/**
 * The one dialect difference of message search (migration 0012): SQLite's FTS5 table versus
 * PostgreSQL's `search_vector` column. Terms are sanitised (src/knowledge/query-terms.ts:
 * letters, digits and marks only, never full-text syntax) and OR-ed; both dialects stem them.
 */
export interface MessageFullTextIndex {
  /**
   * The organisation's messages matching any term, as a subquery of `MatchedMessage` rows;
   * `relevance` is positive, higher is better.
   */
  matches(input: MessageMatchQuery & CandidateCut): RawBuilder<MatchedMessage>;
  /** Each message's whole text with every matching token between MARK_OPEN and MARK_CLOSE. */
  highlight(db: Executor, input: MessageMatchQuery & { messageIds: readonly string[] }): Promise<HighlightedMessage[]>;
}

export interface MessageMatchQuery {
  organizationId: string;
  /** At least one. */
  terms: readonly string[];
}

/**
 * How many of the best matches to keep before any join (null: all of them). Ranking sees every
 * match either way; joining only the best is what keeps a common word cheap (as in
 * file-chunks-full-text.ts). Ties at the cut are broken by the index's own key, not the id.
 */
export interface CandidateCut {
  candidates: number | null;
}

export interface MatchedMessage {
  id: string;
  thread_id: string;
  role: string;
  created_at: string;
  relevance: number;
}

export interface HighlightedMessage {
  id: string;
  content: string;
  highlighted: string | null;
}

/** The index of a dialect: every reader of messages by their words goes through it. */
export function messageFullTextIndex(dialect: 'sqlite' | 'postgres'): MessageFullTextIndex {
  return dialect === 'sqlite' ? sqliteMessageFullText : postgresMessageFullText;
}

/** The FTS5 token the index holds for an organisation (migration 0012's view). */
export function organizationScopeToken(organizationId: string): string {
  return `o${organizationId.replaceAll('-', '')}`;
}

/** The scope narrows the match to the organisation inside the index; each term is a phrase. */
export function sqliteMessageMatch(input: MessageMatchQuery): string {
  const phrases = input.terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ');
  return `scope : "${organizationScopeToken(input.organizationId)}" AND content : (${phrases})`;
}

/**
 * bm25 with the scope column weighted 0. CROSS JOIN keeps the full-text match the outer loop
 * (see file-chunks-full-text.ts: SQLite would otherwise run the MATCH once per row).
 */
export const sqliteMessageFullText: MessageFullTextIndex = {
  matches(input) {
    // LIMIT -1 is SQLite's "no limit".
    return sql<MatchedMessage>`
      select c.id, c.thread_id, c.role, c.created_at, -f.rank as relevance
      from (
        select rowid, rank from chat_messages_fts
        where chat_messages_fts match ${sqliteMessageMatch(input)} and rank match 'bm25(0, 1)'
        order by rank, rowid limit ${input.candidates ?? -1}
      ) f
      cross join chat_messages c on c.search_seq = f.rowid
      where c.organization_id = ${input.organizationId}`;
  },
  async highlight(db, input) {
    if (input.messageIds.length === 0) return [];
    const result = await sql<HighlightedMessage>`
      select c.id, c.content, highlight(chat_messages_fts, 1, ${MARK_OPEN}, ${MARK_CLOSE}) as highlighted
      from chat_messages c cross join chat_messages_fts f on f.rowid = c.search_seq
      where c.organization_id = ${input.organizationId}
        and c.id in (${sql.join(input.messageIds)})
        and chat_messages_fts match ${sqliteMessageMatch(input)}`.execute(db);
    return result.rows;
  },
};

/**
 * `ts_rank` normalised by 1 + log(length), like bm25's length discount; it knows no document
 * frequency (ADR 0025: computing one over an organisation's messages costs a count of them per
 * query). `websearch_to_tsquery` never raises a syntax error; the terms hold no quote or `-`.
 */
export const postgresMessageFullText: MessageFullTextIndex = {
  matches(input) {
    const query = sql`websearch_to_tsquery('english', ${input.terms.join(' or ')})`;
    const cut = input.candidates === null ? sql`` : sql`order by relevance desc, c.id limit ${input.candidates}`;
    return sql<MatchedMessage>`
      select c.id, c.thread_id, c.role, c.created_at, ts_rank(c.search_vector, ${query}, 1) as relevance
      from chat_messages c
      where c.organization_id = ${input.organizationId} and c.search_vector @@ ${query}
      ${cut}`;
  },
  async highlight(db, input) {
    if (input.messageIds.length === 0) return [];
    const query = sql`websearch_to_tsquery('english', ${input.terms.join(' or ')})`;
    const options = `HighlightAll=true, StartSel="${MARK_OPEN}", StopSel="${MARK_CLOSE}"`;
    const result = await sql<HighlightedMessage>`
      select c.id, c.content, ts_headline('english', c.content, ${query}, ${options}) as highlighted
      from chat_messages c
      where c.organization_id = ${input.organizationId} and c.id in (${sql.join(input.messageIds)})`.execute(db);
    return result.rows;
  },
};
