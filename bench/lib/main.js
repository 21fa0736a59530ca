import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanup, cleanupNow, fileLimits } from './children.js';

/**
 * The entry point shared by the streaming benchmarks. Each benchmark module exports
 * `run(options)` (returns its figures) and `render(result)` (Markdown for docs/performance.md),
 * and ends with `runIfMain(import.meta.url, benchmark)`. Run directly, it gets:
 *
 * - a hard deadline (`deadlineMs`): past it, everything is cleaned up and the process exits 1;
 * - cleanup of child processes and temporary directories on every way out (end, error, signal);
 * - a raised open-file limit when it needs one (`openFiles`), by re-running itself under
 *   `bash -c 'ulimit -n …'` — the limit of a running process cannot be raised from inside Node;
 * - `--json <file>`: the result is written there for the runner (bench/streaming.js).
 */
export function runIfMain(moduleUrl, benchmark) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const { values } = parseArgs({ options: { json: { type: 'string' } }, allowPositionals: false });
  if (benchmark.openFiles && needsMoreFiles(benchmark.openFiles)) {
    rerunWithMoreFiles(benchmark.openFiles);
    return;
  }
  void main(benchmark, values.json);
}

function needsMoreFiles(openFiles) {
  const { soft, hard } = fileLimits();
  if (soft >= openFiles) return false;
  if (hard < openFiles) {
    throw new Error(`this benchmark needs ${openFiles} open files; the hard limit (ulimit -Hn) is ${hard}`);
  }
  if (process.env.BENCH_FILES_RAISED === '1')
    throw new Error(`raising the open-file limit to ${openFiles} did not work`);
  return true;
}

function rerunWithMoreFiles(openFiles) {
  const { hard } = fileLimits();
  const limit = Number.isFinite(hard) ? hard : openFiles;
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_FILES_RAISED: '1' } },
  );
  // The re-run does its own cleanup; this process only passes signals on and its exit code back.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main(benchmark, jsonFile) {
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${benchmark.name}: ${signal}, cleaning up`);
      void cleanup().finally(() => process.exit(1));
    });
  }
  const deadline = setTimeout(() => {
    console.error(`\n${benchmark.name}: did not finish within ${benchmark.deadlineMs / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, benchmark.deadlineMs);
  deadline.unref();
  let exitCode = 0;
  try {
    const started = Date.now();
    const result = await benchmark.run();
    result.elapsedSeconds = (Date.now() - started) / 1000;
    if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify(result, null, 2));
    if (result.failures?.length) {
      console.error(`\n${benchmark.name}: checks failed:\n- ${result.failures.join('\n- ')}`);
      exitCode = 1;
    }
    console.log(`\n${benchmark.name}: done in ${result.elapsedSeconds.toFixed(1)} s`);
  } catch (error) {
    console.error(`\n${benchmark.name} failed: ${error?.stack ?? error}`);
    exitCode = 1;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
  // Sockets the benchmark held may still be closing; they must not keep the process alive.
  process.exit(exitCode);
}
