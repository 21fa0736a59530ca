import { sql } from 'kysely';
import type { Executor } from './executor.js';
import {
  termWeights,
  type FullTextIndex,
  type FullTextMatch,
  type FullTextQuery,
} from './file-chunks-full-text-index.js';

/**
 * PostgreSQL ranks without corpus statistics (`ts_rank` knows no inverse document frequency), so an
 * OR of a question's words would rank a chunk that repeats a common word above one with the rare
 * word the question is about, and equal scores abound. This ranks the matches BM25-style instead:
 * Σ over the query's lexemes of idf × tf, with idf = ln(1 + (N − n + 0.5) / (n + 0.5)) over the
 * agent's searchable chunks (N of them: the ready files' `chunk_count`; n containing the lexeme)
 * and tf = `ts_rank` of the chunk for that lexeme alone (the title and heading path, weight B, the
 * section heading, weight C — migration 0023 — and the passage, weight A, all count alike, so a
 * section heading's word counts twice, as on SQLite; it grows with the occurrences, and normalisation 1 divides it by 1 + log(length), as
 * BM25 discounts long chunks). Measured on the committed corpus: plain `ts_rank` or `ts_rank_cd`
 * over the OR query ranked 70–82 % of the questions' chunks first, with many ties; this ranks
 * 83.9 % (FTS5's bm25: 85.7 %).
 *
 * The rows ranked are bounded as on SQLite (see sqliteFullText): the query's lexemes (the
 * `english` configuration's stems of the terms) with the agent's document frequency of each,
 * counted no further than the budget; the rarest are essential while their frequencies add up to
 * at most the budget, and only chunks with an essential lexeme (or, with none, with every lexeme)
 * are scored — each with every lexeme's term, so its score is exact. A term's weight (the query's
 * `weights`) multiplies its lexemes' idf. A common lexeme's n is the
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
  /** The lexeme's idf times its term's weight (the largest, when two terms stem alike). */
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
  const rows = await postgresRank(db, input, present, bounded, null);
  if (exact || rows.length >= input.limit) return rows;
  // Too few: the rarest lexeme's chunks, then any lexeme's, each scoring at most `cap` matched
  // rows (the first the GIN index yields, not the best), merged with what was found by score.
  // Unbounded, these steps scored every chunk of a common lexeme (7,888 rows, 1.1 s at 100,000).
  const cap = Number.isFinite(budget) ? Math.max(budget, MIN_FALLBACK_ROWS) : null;
  let merged = rows;
  const steps = essential.length === 0 ? [[present[0]!.lexeme], all] : [all];
  for (const lexemesOfStep of steps) {
    merged = mergeByScore(merged, await postgresRank(db, input, present, { any: lexemesOfStep }, cap), input.limit);
    if (merged.length >= input.limit) return merged;
  }
  return merged;
}

/** The fallback steps score at least this many rows, whatever the budget (tests use tiny ones). */
const MIN_FALLBACK_ROWS = 64;

function mergeByScore(found: FullTextMatch[], more: FullTextMatch[], limit: number): FullTextMatch[] {
  const byId = new Map(found.map((row) => [row.id, row]));
  for (const row of more) if (!byId.has(row.id)) byId.set(row.id, row);
  return [...byId.values()]
    .sort((left, right) => right.score - left.score || (left.id < right.id ? -1 : 1))
    .slice(0, limit);
}

/** The query's lexemes, rarest first, with the agent's capped document frequency and idf of each. */
async function postgresLexemes(db: Executor, input: FullTextQuery, budget: number): Promise<WeightedLexeme[]> {
  const cap = Number.isFinite(budget) ? budget + 1 : null;
  const result = await sql<{ lexeme: string; weight: number; frequency: string; chunks: string }>`
    with lexemes as (
      select lexeme, max(t.weight) as weight
      from unnest(${[...input.terms]}::text[], ${termWeights(input)}::float8[]) as t(term, weight),
        unnest(tsvector_to_array(to_tsvector('english', t.term))) as lexeme
      group by lexeme
    )
    select l.lexeme, l.weight,
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
  const rows = result.rows.map((row) => ({
    lexeme: row.lexeme,
    weight: Number(row.weight),
    frequency: Number(row.frequency),
  }));
  const chunks = Math.max(Number(result.rows[0]?.chunks ?? 0), ...rows.map((row) => row.frequency));
  return rows
    .map(({ lexeme, weight, frequency }) => ({
      lexeme,
      frequency,
      idf: weight * Math.log(1 + (chunks - frequency + 0.5) / (frequency + 0.5)),
    }))
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
  cap: number | null,
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
      limit ${cap}
    ),
    ranked as (
      select m.id, (
        select sum(w.idf * ts_rank('{0.1, 1.0, 1.0, 1.0}', m.search_vector, w.query, 1))
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
