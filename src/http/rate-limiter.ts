import type { FastifyReply } from 'fastify';
import { AppError } from '../errors.js';

/**
 * A rate limit on some traffic — an API key's requests, an organisation's, a widget visitor's,
 * an address's failed authentications — counted per key in fixed windows of one minute
 * (docs/adr/0031-rate-limits.md). The port the rest of the code sees: whether the counters are in
 * this process's memory or shared in Redis is decided once, in rate-limiter-store.ts.
 */
export interface RateLimiter {
  /** Requests admitted per key per window; 0 for a limit that is off. */
  readonly limit: number;
  /** Spends one request of `key`'s budget and says whether it is admitted. */
  consume(key: string): Promise<RateLimitDecision>;
  /** Gives back one request spent by `consume` (another budget refused the request). */
  refund(key: string): Promise<void>;
  /** The state of `key`'s current window without spending; null when nothing was spent in it. */
  peek(key: string): Promise<RateLimitState | null>;
  /** `peek` answered at once, by a limiter that counts in this process (memory): no promise per request. */
  peekNow?(key: string): RateLimitState | null;
}

export interface RateLimitState {
  /** The budget of one window. */
  limit: number;
  /** Requests left in the current window. */
  remaining: number;
  /** Whole seconds until the window ends and the budget is whole again (at least 1). */
  resetSeconds: number;
}

export interface RateLimitDecision extends RateLimitState {
  admitted: boolean;
}

/** A limit configured as 0: admits everything and shows no headers. */
export const UNLIMITED: RateLimiter = {
  limit: 0,
  consume: () => Promise.resolve({ admitted: true, limit: 0, remaining: 0, resetSeconds: 1 }),
  refund: () => Promise.resolve(),
  peek: () => Promise.resolve(null),
};

/** One budget a request spends from: a limiter and the key it counts under. */
export interface Budget {
  limiter: RateLimiter;
  key: string;
}

/**
 * Spends one request from every budget at once (in parallel: one round trip to Redis, not one
 * per budget) and returns the tightest answer, or null when every limit is off. A request is
 * admitted only when every budget admits it; when one refuses, the others get their request
 * back, so a key refused its own budget does not use up its organisation's.
 */
export async function spend(budgets: readonly Budget[]): Promise<RateLimitDecision | null> {
  const limited = budgets.filter((budget) => budget.limiter.limit > 0);
  if (limited.length === 0) return null;
  const decisions = await Promise.all(limited.map((budget) => budget.limiter.consume(budget.key)));
  const refused = decisions.filter((decision) => !decision.admitted);
  if (refused.length === 0) return decisions.reduce(tighter);
  await Promise.all(
    limited.map((budget, index) => (decisions[index]!.admitted ? budget.limiter.refund(budget.key) : undefined)),
  );
  // Refused by several: the client may retry once the last of them has reset.
  return refused.reduce((left, right) => (right.resetSeconds > left.resetSeconds ? right : left));
}

/** The budget closer to running out: fewer requests left, then the later reset. */
function tighter(left: RateLimitDecision, right: RateLimitDecision): RateLimitDecision {
  if (right.remaining !== left.remaining) return right.remaining < left.remaining ? right : left;
  return right.resetSeconds > left.resetSeconds ? right : left;
}

/**
 * The fields of draft-ietf-httpapi-ratelimit-headers-04: the budget, what is left of it and the
 * seconds until it resets (delta-seconds, not a timestamp, so clocks need not agree).
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'ratelimit-limit': String(state.limit),
    'ratelimit-remaining': String(state.remaining),
    'ratelimit-reset': String(state.resetSeconds),
  };
}

/**
 * Spends one request from each budget: an admitted request's reply carries the rate-limit
 * headers of the tightest budget; a refused one is 429 `rate_limited` with them and `Retry-After`.
 */
export async function admit(reply: FastifyReply, budgets: readonly Budget[]): Promise<void> {
  const decision = await spend(budgets);
  if (decision === null) return;
  const headers = rateLimitHeaders(decision);
  if (decision.admitted) {
    reply.headers(headers);
    return;
  }
  throw new AppError('rate_limited', { headers: { ...headers, 'retry-after': String(decision.resetSeconds) } });
}
