import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareModes, loadBuild } from './lib/cpu-per-request.js';

/**
 * `npm run bench:metrics`: what metrics cost on the hot path, in process (`app.inject`, so no
 * load generator shares the CPU figure): CPU µs per request with METRICS_ENABLED=false, then
 * true, alternating three times for a durable create (POST a thread) and a read (GET an agent)
 * on SQLite; the ratio on/off is the figure (same run, same machine). Tracing stays off (no
 * endpoint), as a server without OTEL_EXPORTER_OTLP_ENDPOINT runs. Prints every run and the
 * medians; docs/performance.md, "Observability", records a run. AB_COUNT sets the requests per
 * run (20,000).
 */
const own = await loadBuild(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
const withMetrics = (metricsEnabled) => (defaults) => ({
  rateLimits: { ...defaults.rateLimits, perKeyPerMinute: 0, perOrganizationPerMinute: 0 },
  observability: { ...defaults.observability, metricsEnabled },
});
await compareModes(
  { off: { build: own, configure: withMetrics(false) }, on: { build: own, configure: withMetrics(true) } },
  { count: Number(process.env.AB_COUNT ?? 20000), ratio: ['on', 'off'] },
);
