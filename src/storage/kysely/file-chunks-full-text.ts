import { sql, type RawBuilder } from 'kysely';
import type { Executor } from './executor.js';

/**
 * The one dialect difference of the chunk index (migration 0009): SQLite's FTS5 table versus
 * PostgreSQL's `search_vector` column. Each adapter turns sanitised query terms (see
 * src/knowledge/query-terms.ts: letters, digits and marks only) into a ranked list of the
 * agent's searchable chunks, best first, with a score in 0..1 — a monotone map x / (1 + x) of the
 * dialect's relevance x (docs/knowledge-search.md, "Similarity").
 *
 * Both filter in the statement: the organisation, the agent, files with `status = 'ready'` and
 * only their `ready_generation`.
 */
export interface FullTextIndex {
  search(db: Executor, input: FullTextQuery): Promise<FullTextMatch[]>;
}

export interface FullTextQuery {
  organizationId: string;
  agentId: string;
  /** At least one; never FTS syntax. */
  terms: readonly string[];
  limit: number;
}

export interface FullTextMatch {
  id: string;
  file_id: string;
  file_name: string;
  text: string;
  heading_path: string;
  page: number | null;
  url: string | null;
  title: string | null;
  score: number;
}

/**
 * Column weights: the title column holds the page title and the heading path (migration 0009),
 * short and topical, so a term there counts twice as much as in the passage; `scope` (the
 * agent's token) counts nothing. Tuned on the committed corpus (test/knowledge/search-quality).
 */
const TITLE_WEIGHT = 2;
const BODY_WEIGHT = 1;

/** The FTS5 token the index holds for an agent (migration 0009's triggers). */
export function agentScopeToken(agentId: string): string {
  return `a${agentId.replaceAll('-', '')}`;
}

/**
 * The scope term narrows the match inside the index to the agent before any row is joined; the
 * terms are each a quoted phrase (FTS5 tokenizes a phrase with the table's Porter tokenizer), OR-ed
 * and restricted to the title and body columns, so a term never matches a scope token.
 */
export function sqliteMatchExpression(input: { agentId: string; terms: readonly string[] }): string {
  const phrases = input.terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ');
  return `scope : "${agentScopeToken(input.agentId)}" AND {title body} : (${phrases})`;
}

export const sqliteFullText: FullTextIndex = {
  async search(db, input) {
    const match = sqliteMatchExpression(input);
    // bm25() is negative, more negative for better matches; -bm25 / (1 - bm25) maps it to 0..1.
    const result = await sql<FullTextMatch>`
      select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
        -m.rank / (1 - m.rank) as score
      from (
        select rowid, rank from file_chunks_fts
        where file_chunks_fts match ${match} and rank match ${`bm25(0, ${TITLE_WEIGHT}, ${BODY_WEIGHT})`}
      ) m
      join file_chunks c on c.seq = m.rowid
      join agent_files f on f.id = c.file_id
      where c.organization_id = ${input.organizationId} and c.agent_id = ${input.agentId}
        and f.organization_id = ${input.organizationId} and f.status = 'ready'
        and c.generation = f.ready_generation
      order by m.rank, c.id
      limit ${input.limit}
    `.execute(db);
    return result.rows;
  },
};

/**
 * `websearch_to_tsquery` never raises a syntax error (unlike `to_tsquery`), and its `or` is the
 * OR operator; the terms hold no quotes or `-`, its only other syntax. Terms that are stop words
 * of the `english` configuration drop out of the query there.
 */
function postgresQuery(terms: readonly string[]): RawBuilder<unknown> {
  return sql`websearch_to_tsquery('english', ${terms.join(' or ')})`;
}

/**
 * `ts_rank_cd` (cover density) with the weights {D, C, B, A} = {0.1, 0.2, 1.0, 0.5}: a term in
 * the title and heading path (B) counts twice as much as in the passage (A), as in SQLite;
 * normalisation 1 divides by 1 + log(length), and 32 maps the rank r to r / (r + 1).
 */
export const postgresFullText: FullTextIndex = {
  async search(db, input) {
    const query = postgresQuery(input.terms);
    const result = await sql<FullTextMatch>`
      select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
        ts_rank_cd('{0.1, 0.2, 1.0, 0.5}', c.search_vector, q.query, 33) as score
      from file_chunks c
      join agent_files f on f.id = c.file_id, (select ${query} as query) q
      where c.organization_id = ${input.organizationId} and c.agent_id = ${input.agentId}
        and f.organization_id = ${input.organizationId} and f.status = 'ready'
        and c.generation = f.ready_generation
        and c.search_vector @@ q.query
      order by score desc, c.id
      limit ${input.limit}
    `.execute(db);
    return result.rows;
  },
};
