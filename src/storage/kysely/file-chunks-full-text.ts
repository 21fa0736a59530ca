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

/**
 * PostgreSQL ranks without corpus statistics (`ts_rank` knows no inverse document frequency), so an
 * OR of a question's words would rank a chunk that repeats a common word above one with the rare
 * word the question is about, and equal scores abound. This ranks the matches BM25-style instead:
 * Σ over the query's lexemes of idf × tf, with idf = ln(1 + (N − n + 0.5) / (n + 0.5)) over the
 * agent's searchable chunks (N of them: the ready files' `chunk_count`; n containing the lexeme)
 * and tf = `ts_rank` of the chunk for that lexeme alone (title and heading path weighted like the
 * passage; it grows with the occurrences, and normalisation 1 divides it by 1 + log(length), as
 * BM25 discounts long chunks). Measured on the committed corpus: plain `ts_rank` or `ts_rank_cd`
 * over the OR query ranked 70–82 % of the questions' chunks first, with many ties; this ranks
 * 83.9 % (FTS5's bm25: 85.7 %).
 *
 * The rows ranked are bounded as on SQLite (see sqliteFullText): the query's lexemes (the
 * `english` configuration's stems of the terms) with the agent's document frequency of each,
 * counted no further than the budget; the rarest are essential while their frequencies add up to
 * at most the budget, and only chunks with an essential lexeme (or, with none, with every lexeme)
 * are scored — each with every lexeme's term, so its score is exact. A common lexeme's n is the
 * capped count, which makes its idf the most a lexeme of that frequency could have (an upper
 * bound; it stays below an essential one's). When a bounded plan finds fewer than `limit`
 * chunks, the rarest lexeme's chunks are scored (when every lexeme was common), then all matches
 * of any lexeme. Every step is its own statement, with the
 * per-chunk sum a correlated subquery over at most 32 lexemes, so no planner estimate can turn
 * it into a loop over the agent's chunks. The chunk's organisation and agent are compared as
 * expressions (`(c.agent_id || '') = …`), which no B-tree index serves: the match must come from
 * the GIN index, with the agent checked on the rows it yields, and the matches are a MATERIALIZED
 * CTE, so they are found before any join. Measured without statistics after a bulk load
 * (bench/knowledge.js), the planner otherwise read all 100,000 of the agent's chunks through
 * `file_chunks_agent` and tested each against the query (335 ms a lexeme), or looped over the
 * agent's files and read every chunk of each (190 ms at 10,000 chunks).
 */
export function postgresFullTextIndex(options: { rankedRowsBudget: number }): FullTextIndex {
  return {
    search: (db, input) => postgresSearch(db, input, options.rankedRowsBudget),
  };
}

/**
 * PostgreSQL's budget is smaller: each row it counts or scores is a heap visit that reads and
 * rechecks the chunk's tsvector (about 15 µs, against FTS5's 2 µs a ranked row). Measured with
 * bench/knowledge.js: see docs/performance.md, "Knowledge search".
 */
export const POSTGRES_RANKED_ROWS_BUDGET = 400;

export const postgresFullText: FullTextIndex = postgresFullTextIndex({ rankedRowsBudget: POSTGRES_RANKED_ROWS_BUDGET });

interface WeightedLexeme {
  lexeme: string;
  frequency: number;
  idf: number;
}

async function postgresSearch(db: Executor, input: FullTextQuery, budget: number): Promise<FullTextMatch[]> {
  const lexemes = await postgresLexemes(db, input, budget);
  const present = lexemes.filter(({ frequency }) => frequency > 0);
  if (present.length === 0) return [];
  const essential: string[] = [];
  let ranked = 0;
  for (const { lexeme, frequency } of present) {
    if (ranked + frequency > budget) break;
    essential.push(lexeme);
    ranked += frequency;
  }
  const all = present.map(({ lexeme }) => lexeme);
  const exact = essential.length === present.length;
  const bounded = essential.length > 0 ? { any: essential } : { every: all };
  let rows = await postgresRank(db, input, present, bounded);
  if (exact || rows.length >= input.limit) return rows;
  // Every lexeme common and too few chunks with them all: the rarest one's chunks next (as many
  // as its capped count said, at least), before every match of any.
  if (essential.length === 0) {
    rows = await postgresRank(db, input, present, { any: [present[0]!.lexeme] });
    if (rows.length >= input.limit) return rows;
  }
  return postgresRank(db, input, present, { any: all });
}

/** The query's lexemes, rarest first, with the agent's capped document frequency and idf of each. */
async function postgresLexemes(db: Executor, input: FullTextQuery, budget: number): Promise<WeightedLexeme[]> {
  const cap = Number.isFinite(budget) ? budget + 1 : null;
  const result = await sql<{ lexeme: string; frequency: string; chunks: string }>`
    with lexemes as (
      select distinct lexeme from unnest(tsvector_to_array(to_tsvector('english', ${input.terms.join(' ')}))) as lexeme
    )
    select l.lexeme,
      (select count(*) from (
        select 1 from file_chunks c
        where (c.organization_id || '') = ${input.organizationId} and (c.agent_id || '') = ${input.agentId}
          and c.search_vector @@ plainto_tsquery('simple', l.lexeme)
        limit ${cap}
      ) s) as frequency,
      (select coalesce(sum(f.chunk_count), 0) from agent_files f
        where f.organization_id = ${input.organizationId} and f.agent_id = ${input.agentId}
          and f.status = 'ready') as chunks
    from lexemes l
  `.execute(db);
  const rows = result.rows.map((row) => ({ lexeme: row.lexeme, frequency: Number(row.frequency) }));
  const chunks = Math.max(Number(result.rows[0]?.chunks ?? 0), ...rows.map((row) => row.frequency));
  return rows
    .map((row) => ({ ...row, idf: Math.log(1 + (chunks - row.frequency + 0.5) / (row.frequency + 0.5)) }))
    .sort((left, right) => left.frequency - right.frequency || (left.lexeme < right.lexeme ? -1 : 1));
}

/**
 * Scores the agent's searchable chunks that have any (or every) of the given lexemes by the sum
 * over all the query's lexemes, best first; only the best `limit` are joined to their file.
 */
async function postgresRank(
  db: Executor,
  input: FullTextQuery,
  lexemes: readonly WeightedLexeme[],
  match: { any: readonly string[] } | { every: readonly string[] },
): Promise<FullTextMatch[]> {
  const [operator, wanted] = 'any' in match ? [' | ', match.any] : [' & ', match.every];
  const tsquery = wanted.map((lexeme) => `'${lexeme.replaceAll("'", "''")}'`).join(operator);
  const result = await sql<FullTextMatch>`
    with weights as (
      select w.lexeme, plainto_tsquery('simple', w.lexeme) as query, w.idf
      from unnest(${lexemes.map((lexeme) => lexeme.lexeme)}::text[], ${lexemes.map((lexeme) => lexeme.idf)}::float8[])
        as w(lexeme, idf)
    ),
    matched as materialized (
      select c.id, c.file_id, c.generation, c.search_vector from file_chunks c
      where c.search_vector @@ to_tsquery('simple', ${tsquery})
        and (c.organization_id || '') = ${input.organizationId} and (c.agent_id || '') = ${input.agentId}
    ),
    ranked as (
      select m.id, (
        select sum(w.idf * ts_rank('{0.1, 0.2, 1.0, 1.0}', m.search_vector, w.query, 1))
        from weights w where m.search_vector @@ w.query
      ) as relevance
      from matched m join agent_files f on f.id = m.file_id
      where f.organization_id = ${input.organizationId} and f.status = 'ready'
        and m.generation = f.ready_generation
      order by relevance desc, m.id
      limit ${input.limit}
    )
    select c.id, c.file_id, f.name as file_name, c.text, c.heading_path, c.page, c.url, c.title,
      r.relevance / (1 + r.relevance) as score
    from ranked r join file_chunks c on c.id = r.id join agent_files f on f.id = c.file_id
    order by r.relevance desc, c.id
  `.execute(db);
  return result.rows.map((row) => ({ ...row, score: Number(row.score) }));
}
