import { sql } from 'kysely';
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
 * Column weights: `scope` (the agent's token) counts nothing; the title column (the page title
 * and the heading path, migration 0009) counts like the passage. Measured on the committed corpus
 * (test/knowledge/search-quality): weighting the title 1.5 to 4 times ranked no better or worse,
 * because a document's outer headings are in every one of its chunks.
 */
const TITLE_WEIGHT = 1;
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

/**
 * FTS5 ranks every match but keeps only the best `candidates` (`ORDER BY rank LIMIT` inside the
 * index), and only those are joined to their chunk and file and filtered; joining every match
 * first made a common term cost a join per matching chunk (bench/knowledge.js). A candidate
 * filtered out (another generation, a file not ready) can leave fewer than `limit`; so can having
 * fewer matches than that. Then the query runs again without the cut, which is cheap when there
 * are few matches, and rare otherwise (a re-index in progress).
 */
export const sqliteFullText: FullTextIndex = {
  async search(db, input) {
    const candidates = Math.max(input.limit * 4, 64);
    const rows = await sqliteSearch(db, { ...input, candidates });
    if (rows.length >= input.limit) return rows;
    return sqliteSearch(db, { ...input, candidates: -1 });
  },
};

async function sqliteSearch(db: Executor, input: FullTextQuery & { candidates: number }): Promise<FullTextMatch[]> {
  const match = sqliteMatchExpression(input);
  // bm25() is negative, more negative for better matches; -bm25 / (1 - bm25) maps it to 0..1.
  // CROSS JOIN keeps the full-text match the outer loop (SQLite never reorders it): with a plain
  // join the planner may scan the chunks and run the MATCH once per chunk, which measured 30–90 s
  // a query at 10,000 chunks (bench/knowledge.js). LIMIT -1 is SQLite's "no limit".
  const result = await sql<FullTextMatch>`
    select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
      -m.rank / (1 - m.rank) as score
    from (
      select rowid, rank from file_chunks_fts
      where file_chunks_fts match ${match} and rank match ${`bm25(0, ${TITLE_WEIGHT}, ${BODY_WEIGHT})`}
      order by rank limit ${input.candidates}
    ) m
    cross join file_chunks c on c.seq = m.rowid
    cross join agent_files f on f.id = c.file_id
    where c.organization_id = ${input.organizationId} and c.agent_id = ${input.agentId}
      and f.organization_id = ${input.organizationId} and f.status = 'ready'
      and c.generation = f.ready_generation
    order by m.rank, c.id
    limit ${input.limit}
  `.execute(db);
  return result.rows;
}

/**
 * PostgreSQL ranks without corpus statistics (`ts_rank` knows no inverse document frequency), so an
 * OR of a question's words would rank a chunk that repeats a common word above one with the rare
 * word the question is about, and equal scores abound. This ranks the matches BM25-style instead:
 * Σ over the query's lexemes of idf × tf, with idf = ln(1 + (N − n + 0.5) / (n + 0.5)) over the
 * agent's searchable chunks (N of them, n containing the lexeme) and tf = `ts_rank` of the chunk
 * for that lexeme alone (title and heading path weighted like the passage; it grows with the
 * occurrences, and normalisation 1 divides it by 1 + log(length), as BM25 discounts long chunks).
 * Measured on the committed corpus: plain `ts_rank` or `ts_rank_cd` over the OR query ranked 70–82 %
 * of the questions' chunks first, with many ties; this ranks 83.9 % (FTS5's bm25: 85.7 %).
 * `websearch_to_tsquery` never raises a syntax error (unlike
 * `to_tsquery`); the terms hold no quotes or `-`, its only syntax besides `or`.
 */
export const postgresFullText: FullTextIndex = {
  async search(db, input) {
    const result = await sql<FullTextMatch>`
      with searchable as (
        select c.id, c.search_vector from file_chunks c join agent_files f on f.id = c.file_id
        where c.organization_id = ${input.organizationId} and c.agent_id = ${input.agentId}
          and f.organization_id = ${input.organizationId} and f.status = 'ready'
          and c.generation = f.ready_generation
      ),
      matched as (
        select s.id, s.search_vector from searchable s
        where s.search_vector @@ websearch_to_tsquery('english', ${input.terms.join(' or ')})
      ),
      lexemes as (
        select distinct plainto_tsquery('simple', lexeme) as query
        from unnest(tsvector_to_array(to_tsvector('english', ${input.terms.join(' ')}))) as lexeme
      ),
      weighted as (
        select l.query, ln(1 + ((select count(*) from searchable) - count(m.id) + 0.5) / (count(m.id) + 0.5)) as idf
        from lexemes l left join matched m on m.search_vector @@ l.query group by l.query
      ),
      ranked as (
        select m.id, sum(w.idf * ts_rank('{0.1, 0.2, 1.0, 1.0}', m.search_vector, w.query, 1)) as relevance
        from matched m join weighted w on m.search_vector @@ w.query group by m.id
      )
      select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
        r.relevance / (1 + r.relevance) as score
      from ranked r join file_chunks c on c.id = r.id join agent_files f on f.id = c.file_id
      order by r.relevance desc, c.id
      limit ${input.limit}
    `.execute(db);
    return result.rows;
  },
};
