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

/** A term as an FTS5 phrase restricted to the ranked columns (a phrase is tokenized like the text). */
function phrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

function anyOf(terms: readonly string[]): string {
  return `{title body} : (${terms.map(phrase).join(' OR ')})`;
}

/**
 * The agent-scoped expression of the whole query: the scope term narrows the match inside the
 * index to the agent; the terms are each a quoted phrase, OR-ed and restricted to the title and
 * body columns, so a term never matches a scope token. The exact and slowest plan (see below).
 */
export function sqliteMatchExpression(input: { agentId: string; terms: readonly string[] }): string {
  return `scope : "${agentScopeToken(input.agentId)}" AND ${anyOf(input.terms)}`;
}

/**
 * How many matching rows FTS5 ranks for one query, at most, before the agent filter: ranking is
 * the cost that grows with the index (bm25() runs for every matching row, about 2 µs each), so it
 * is bounded here rather than by the index's size. Measured with bench/knowledge.js; see
 * docs/knowledge-search.md, "Query plan".
 */
export const RANKED_ROWS_BUDGET = 2000;

/**
 * The query plan, after the ideas of Lucene's common-terms query (Elasticsearch's
 * `cutoff_frequency`): a term found in few rows is *essential*, one found in many is *common*.
 *
 * 1. Each term's document frequency in the whole index, counted no further than the budget (a
 *    capped count costs at most the budget, however common the term).
 * 2. A term in no row is left out. The rarest terms, while their frequencies add up to at most the budget, are essential; the
 *    rest are common. When every term is essential, all matches are ranked: exact.
 * 3. Otherwise only rows with an essential term are ranked, and with their exact score for the
 *    whole query: those that also have a common term (`E AND C`, every phrase scored) and those
 *    that have none (`E NOT C`, whose common phrases score 0) — bm25() sums over the phrases, so
 *    both are the score the full OR query gives. A row with only common terms is not a candidate:
 *    with enough rows that have a rare term of the question, one without any is not what it asks.
 * 4. With no essential term at all, the rows with every term (`c1 AND c2 …`) are ranked.
 * 5. When a bounded plan finds fewer than `limit` of the agent's chunks, the exact agent-scoped
 *    query answers (its cost grows with the agent's chunks, so it is the last resort).
 *    Each is ranked with the candidate cut first (see rankMatches), then without it.
 *
 * The bounded plans match without the agent's scope term — intersecting with a posting list as
 * long as the agent's chunks cost more than the ranking (12 ms at 100,000 chunks) — and keep the
 * agent's rows in the join, over at most the budget's rows. bm25()'s inverse document frequency
 * is the whole index's in every plan (FTS5 has no other), so scores are the same in each.
 *
 * CROSS JOIN keeps the full-text match the outer loop (SQLite never reorders it): with a plain
 * join the planner may scan the chunks and run the MATCH once per chunk, which measured 30–90 s
 * a query at 10,000 chunks (bench/knowledge.js).
 */
export function sqliteFullTextIndex(options: { rankedRowsBudget: number }): FullTextIndex {
  return {
    search: (db, input) => sqliteSearch(db, input, options.rankedRowsBudget),
  };
}

export const sqliteFullText: FullTextIndex = sqliteFullTextIndex({ rankedRowsBudget: RANKED_ROWS_BUDGET });

async function sqliteSearch(db: Executor, input: FullTextQuery, budget: number): Promise<FullTextMatch[]> {
  const plan = await boundedPlan(db, input.terms, budget);
  const attempts = plan.exact ? [plan.expressions] : [plan.expressions, [sqliteMatchExpression(input)]];
  let rows: FullTextMatch[] = [];
  if (plan.expressions.length === 0) return rows;
  for (const expressions of attempts) {
    rows = await rankMatches(db, input, expressions, { cut: true });
    if (rows.length >= input.limit) return rows;
    rows = await rankMatches(db, input, expressions, { cut: false });
    if (rows.length >= input.limit) return rows;
  }
  return rows;
}

/**
 * The expressions to rank (their matches' union), and whether they are the whole query's matches
 * (then no exact query need follow). Exported for its tests.
 */
export async function boundedPlan(
  db: Executor,
  terms: readonly string[],
  budget: number,
): Promise<{ expressions: string[]; exact: boolean }> {
  const frequencies = await cappedFrequencies(db, terms, budget);
  // A term in no row matches nothing and scores nothing: it is left out, not counted essential.
  const byRarity = terms
    .map((term, index) => ({ term, frequency: frequencies[index]! }))
    .filter(({ frequency }) => frequency > 0)
    .sort((left, right) => left.frequency - right.frequency);
  if (byRarity.length === 0) return { expressions: [], exact: true };
  const essential: string[] = [];
  let ranked = 0;
  for (const { term, frequency } of byRarity) {
    if (ranked + frequency > budget) break;
    essential.push(term);
    ranked += frequency;
  }
  const common = byRarity.slice(essential.length).map(({ term }) => term);
  if (common.length === 0) return { expressions: [anyOf(essential)], exact: true };
  if (essential.length === 0) return { expressions: [common.map((term) => anyOf([term])).join(' AND ')], exact: false };
  return {
    expressions: [`${anyOf(essential)} AND ${anyOf(common)}`, `${anyOf(essential)} NOT ${anyOf(common)}`],
    exact: false,
  };
}

/** Each term's number of matching rows in the whole index, counted up to one past the budget. */
async function cappedFrequencies(db: Executor, terms: readonly string[], budget: number): Promise<number[]> {
  const counts = terms.map(
    (term, index) =>
      sql`select ${index} as term, count(*) as frequency from (
        select 1 from file_chunks_fts where file_chunks_fts match ${anyOf([term])} limit ${Number.isFinite(budget) ? budget + 1 : -1}
      )`,
  );
  const result = await sql<{ term: number; frequency: number }>`${sql.join(counts, sql` union all `)}`.execute(db);
  const frequencies = new Array<number>(terms.length).fill(0);
  for (const row of result.rows) frequencies[Number(row.term)] = Number(row.frequency);
  return frequencies;
}

/**
 * Ranks the rows the expressions match (their union) and keeps the agent's searchable chunks.
 * With `cut`, only the best `candidates` matches are joined to their chunk and file (`ORDER BY
 * rank LIMIT` before the join: a join costs more than a bm25() call); a candidate of another
 * agent, generation or a file not ready can then leave fewer than `limit`, and the caller asks
 * again without the cut. LIMIT -1 is SQLite's "no limit".
 */
async function rankMatches(
  db: Executor,
  input: FullTextQuery,
  expressions: readonly string[],
  options: { cut: boolean },
): Promise<FullTextMatch[]> {
  const candidates = options.cut ? Math.max(input.limit * 4, 64) : -1;
  const weights = `bm25(0, ${TITLE_WEIGHT}, ${BODY_WEIGHT})`;
  const matches = expressions.map(
    (expression) =>
      sql`select rowid, rank from file_chunks_fts where file_chunks_fts match ${expression} and rank match ${weights}`,
  );
  // bm25() is negative, more negative for better matches; -bm25 / (1 - bm25) maps it to 0..1.
  const result = await sql<FullTextMatch>`
    select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
      -m.rank / (1 - m.rank) as score
    from (select rowid, rank from (${sql.join(matches, sql` union all `)}) order by rank limit ${candidates}) m
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

export {
  POSTGRES_RANKED_ROWS_BUDGET,
  postgresFullText,
  postgresFullTextIndex,
} from './file-chunks-full-text-postgres.js';
