import type { Executor } from './executor.js';

/**
 * The one dialect difference of the chunk index (migrations 0009 and 0023): SQLite's FTS5 table
 * (file-chunks-full-text.ts) versus PostgreSQL's `search_vector` column
 * (file-chunks-full-text-postgres.ts); the store picks one by dialect. Each turns sanitised query
 * terms (see src/knowledge/query-terms.ts: letters, digits and marks only) into a ranked list of
 * the agent's searchable chunks, best first, with a score in 0..1 — a monotone map x / (1 + x) of
 * the dialect's relevance x (docs/knowledge-search.md, "Similarity").
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
  /** At least one, each once; never FTS syntax. */
  terms: readonly string[];
  /**
   * Each term's weight, a whole number from 1 to MAX_TERM_WEIGHT (all 1 when absent): a term's
   * part of the relevance is multiplied by it. Whole numbers because FTS5's bm25() has no
   * per-phrase weight: SQLite repeats a phrase instead (bm25() sums over the phrases).
   */
  weights?: readonly number[];
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

export const MAX_TERM_WEIGHT = 4;

/**
 * The weights of the query's terms, divided by their greatest common divisor (equal weights are
 * all 1, so an unweighted query repeats no phrase). Throws on a weight out of range.
 */
export function termWeights(input: Pick<FullTextQuery, 'terms' | 'weights'>): number[] {
  const weights = input.weights ?? input.terms.map(() => 1);
  if (weights.length !== input.terms.length) throw new Error('full-text query: one weight a term');
  for (const weight of weights) {
    if (!Number.isInteger(weight) || weight < 1 || weight > MAX_TERM_WEIGHT)
      throw new Error(`full-text query: a term weight is a whole number from 1 to ${MAX_TERM_WEIGHT}`);
  }
  const divisor = weights.reduce(greatestCommonDivisor);
  return weights.map((weight) => weight / divisor);
}

function greatestCommonDivisor(left: number, right: number): number {
  return right === 0 ? left : greatestCommonDivisor(right, left % right);
}
