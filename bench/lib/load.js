import autocannon from 'autocannon';

/**
 * One load test = a warm-up run (lets V8 optimise the hot paths and SQLite fill its page cache;
 * its figures are discarded except for the 2xx count, which the durability check needs) followed
 * by the measured run, both with the same request. `cpuTimeMs` reads the server's CPU time, so
 * the measured run also yields CPU per request: a figure that other load on the machine disturbs
 * far less than requests per second. `startWindow`, when given, is called as the measured run
 * starts and returns a function called as it ends, whose value becomes `measured.window`.
 */
export async function runLoad({
  url,
  headers,
  body,
  connections,
  warmupSeconds,
  durationSeconds,
  cpuTimeMs,
  startWindow = () => () => undefined,
}) {
  const options = {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    connections,
    pipelining: 1,
  };
  const warmup = warmupSeconds > 0 ? summarise(await autocannon({ ...options, duration: warmupSeconds })) : null;
  const cpuBefore = cpuTimeMs();
  const endWindow = startWindow();
  const measured = summarise(await autocannon({ ...options, duration: durationSeconds }));
  measured.window = endWindow();
  const cpuAfter = cpuTimeMs();
  if (cpuBefore !== null && cpuAfter !== null) {
    const responses = measured.ok + measured.non2xx;
    measured.serverCpuMs = cpuAfter - cpuBefore;
    measured.serverCpuMicrosPerRequest = responses > 0 ? (measured.serverCpuMs * 1000) / responses : null;
    measured.serverCpuShare = measured.serverCpuMs / (measured.durationSeconds * 1000);
  }
  return { warmup, measured };
}

/** The figures the report needs, taken from autocannon's result. */
function summarise(result) {
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requestsPerSecond: result.requests.mean,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    // Requests still in flight when autocannon stopped: the server may or may not have handled
    // them, but no client ever saw their answer.
    unanswered: Math.max(0, result.requests.sent - responses - result.errors),
    durationSeconds: result.duration,
  };
}

/** Problems a run must not hide: any answer outside 2xx, any socket error or timeout. */
export function loadProblems(label, load) {
  const problems = [];
  for (const [phase, figures] of Object.entries(load)) {
    if (!figures) continue;
    const where = `${label} (${phase})`;
    if (figures.non2xx > 0)
      problems.push(`${where}: ${figures.non2xx} non-2xx responses ${JSON.stringify(figures.statusCodes)}`);
    if (figures.errors > 0) problems.push(`${where}: ${figures.errors} errors (${figures.timeouts} timeouts)`);
    if (figures.ok === 0) problems.push(`${where}: no 2xx response at all`);
  }
  return problems;
}
