import { sql } from 'kysely';
import type { Executor } from './executor.js';
import {
  termWeights,
  type FullTextIndex,
  type FullTextMatch,
  type FullTextQuery,
} from './file-chunks-full-text-index.js';

/**
 * Column weights: `scope` (the agent's token) counts nothing; the title column (the page title
 * and the whole heading path, migration 0009), the section heading (the path's last heading,
 * migration 0023) and the passage count alike — so a word of the section heading counts twice,
 * once in each heading column. The outer headings are in every chunk of a document and tell its
 * sections apart not at all (weighting the title column 1.5 to 4 times ranked no better); the
 * section heading does. Measured on the committed corpus: docs/knowledge-search.md, "Quality".
 */
const TITLE_WEIGHT = 1;
const HEADING_WEIGHT = 1;
const BODY_WEIGHT = 1;

/** The FTS5 token the index holds for an agent (migration 0009's triggers). */
export function agentScopeToken(agentId: string): string {
  return `a${agentId.replaceAll('-', '')}`;
}

/** A term as an FTS5 phrase restricted to the ranked columns (a phrase is tokenized like the text). */
function phrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** How many times each term's phrase is written in a ranked expression (its weight: see termWeights). */
export type PhraseRepeats = ReadonlyMap<string, number>;

function anyOf(terms: readonly string[], repeats?: PhraseRepeats): string {
  const phrases = terms.flatMap((term) => new Array<string>(repeats?.get(term) ?? 1).fill(phrase(term)));
  return `{title heading body} : (${phrases.join(' OR ')})`;
}

/** The phrase repeats of a query's weights: bm25() sums over the phrases, so a phrase written twice counts twice. */
export function phraseRepeats(input: Pick<FullTextQuery, 'terms' | 'weights'>): PhraseRepeats {
  const weights = termWeights(input);
  return new Map(input.terms.map((term, index) => [term, weights[index]!]));
}

/**
 * The agent-scoped expression of the whole query: the scope term narrows the match inside the
 * index to the agent; the terms are each a quoted phrase (written as many times as its weight),
 * OR-ed and restricted to the ranked columns, so a term never matches a scope token. The exact
 * and slowest plan (see below).
 */
export function sqliteMatchExpression(input: Pick<FullTextQuery, 'agentId' | 'terms' | 'weights'>): string {
  return `scope : "${agentScopeToken(input.agentId)}" AND ${anyOf(input.terms, phraseRepeats(input))}`;
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
  const plan = await boundedPlan(db, input.terms, budget, phraseRepeats(input));
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
  repeats?: PhraseRepeats,
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
  const any = (some: readonly string[]) => anyOf(some, repeats);
  if (common.length === 0) return { expressions: [any(essential)], exact: true };
  if (essential.length === 0) return { expressions: [common.map((term) => any([term])).join(' AND ')], exact: false };
  return {
    expressions: [`${any(essential)} AND ${any(common)}`, `${any(essential)} NOT ${any(common)}`],
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
  const weights = `bm25(0, ${TITLE_WEIGHT}, ${HEADING_WEIGHT}, ${BODY_WEIGHT})`;
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
