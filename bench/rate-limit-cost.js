import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareModes, loadBuild } from './lib/cpu-per-request.js';

/**
 * `npm run build && node bench/rate-limit-cost.js`: what the per-key and per-organisation rate
 * limits cost on the hot path, in process (`app.inject`, so no load generator shares the CPU
 * figure): CPU µs per request with the limits off, then on with budgets too high to refuse,
 * alternating three times for a durable create (POST a thread) and a read (GET an agent) on
 * SQLite. With AB_BASE_DIST=<another checkout>/dist it also runs that build ("base", e.g. the
 * commit before), with its own defaults. Prints every run and the medians; docs/performance.md,
 * "Rate limits", records a run. AB_COUNT sets the requests per run (20,000).
 */
const own = await loadBuild(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
const limits = (perMinute) => (defaults) => ({
  rateLimits: { ...defaults.rateLimits, perKeyPerMinute: perMinute, perOrganizationPerMinute: perMinute },
});
await compareModes(
  {
    ...(process.env.AB_BASE_DIST
      ? { base: { build: await loadBuild(path.resolve(process.env.AB_BASE_DIST)), configure: () => ({}) } }
      : {}),
    off: { build: own, configure: limits(0) },
    on: { build: own, configure: limits(100_000_000) },
  },
  { count: Number(process.env.AB_COUNT ?? 20000) },
);
