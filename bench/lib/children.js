import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson } from './http-json.js';

/**
 * Child processes and temporary directories of a benchmark, and their cleanup. Every server runs
 * in its own process, so the load generator (this process) never shares an event loop with the
 * thing it measures.
 * Everything this process starts or creates is tracked here, so every exit path — success, a
 * thrown error, the deadline, Ctrl-C — ends the children this process started (by pid, never by
 * name) and removes the directories.
 */

const children = new Set();
const directories = new Set();

/** Keeps only the tail of a child's output: enough to show why it failed, never unbounded. */
const OUTPUT_TAIL_CHARS = 64 * 1024;

/** A fresh temporary directory, removed by `cleanup()`. Under BENCH_TMP_DIR when the runner set one. */
export function makeTempDir(prefix) {
  const parent =
    process.env.BENCH_TMP_DIR && fs.existsSync(process.env.BENCH_TMP_DIR) ? process.env.BENCH_TMP_DIR : os.tmpdir();
  const directory = fs.mkdtempSync(path.join(parent, prefix));
  directories.add(directory);
  return directory;
}

/** The soft and hard limits on open files, as a fresh shell (and so a child) would get them. */
export function fileLimits() {
  const [soft, hard] = execFileSync('bash', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((value) => (value === 'unlimited' ? Infinity : Number(value)));
  return { soft, hard };
}

/**
 * Starts `node [nodeArgs] script [args]`. With `openFiles`, the child needs that many file
 * descriptors: when the inherited soft limit is lower, it is raised (up to the hard limit) by a
 * shell that then `exec`s node, so the pid we track is node's own.
 */
export function startNode({ name, script, args = [], nodeArgs = [], env = {}, openFiles = 0 }) {
  const argv = [...nodeArgs, script, ...args];
  let command = process.execPath;
  let commandArgs = argv;
  if (openFiles > 0) {
    const { soft, hard } = fileLimits();
    if (hard < openFiles)
      throw new Error(`${name} needs ${openFiles} open files but the hard limit (ulimit -Hn) is ${hard}`);
    if (soft < openFiles) {
      command = 'bash';
      commandArgs = [
        '-c',
        `ulimit -n ${Number.isFinite(hard) ? hard : openFiles} && exec "$0" "$@"`,
        process.execPath,
        ...argv,
      ];
    }
  }
  const child = spawn(command, commandArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const handle = {
    name,
    child,
    pid: child.pid,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  children.add(handle);
  handle.exit.then(() => children.delete(handle));
  // Both pipes are read all the time: a chatty child would otherwise block on a full pipe.
  child.stdout.setEncoding('utf8').on('data', (text) => (handle.stdout = tailOf(handle.stdout + text)));
  child.stderr.setEncoding('utf8').on('data', (text) => (handle.stderr = tailOf(handle.stderr + text)));
  return handle;
}

function tailOf(text) {
  return text.length > OUTPUT_TAIL_CHARS ? text.slice(-OUTPUT_TAIL_CHARS) : text;
}

export function isRunning(handle) {
  return handle.child.exitCode === null && handle.child.signalCode === null;
}

/** Resolves with the first match of `pattern` on the child's stdout; rejects if it exits or times out. */
export async function waitForOutput(handle, pattern, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(handle.stdout);
    if (match) return match;
    if (!isRunning(handle)) throw childFailure(handle, `exited before printing ${pattern}`);
    if (Date.now() > deadline) throw childFailure(handle, `did not print ${pattern} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Polls `GET url` until it answers 200; rejects if the child exits first. On Parley's `/readyz`
 * that is once the server listens, its database answers and its route schemas are compiled (a
 * warm-up of 3 s of CPU on an idle machine, 15 s or more of wall time on a loaded one, hence the
 * generous default): a benchmark that waits on it measures no compilation.
 */
export async function waitForHttpOk(handle, url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await requestJson({ url, timeoutMs: 5_000 }).catch(() => null);
    if (response?.status === 200) return;
    if (!isRunning(handle)) throw childFailure(handle, `exited before ${url} answered 200`);
    if (Date.now() > deadline) throw childFailure(handle, `${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves with how the child ended, `killed` when it
 * outlived the grace period (callers report that as an unclean shutdown).
 */
export async function stopChild(handle, graceMs = 15_000) {
  if (!isRunning(handle)) return handle.exit;
  handle.child.kill('SIGTERM');
  // Unreferenced: a pending grace timer must not keep the benchmark alive after the child exited.
  const outcome = await Promise.race([handle.exit, sleep(graceMs, null, { ref: false })]);
  if (outcome) return outcome;
  handle.child.kill('SIGKILL');
  return { ...(await handle.exit), killed: true };
}

export function childFailure(handle, problem) {
  const output = [
    handle.stderr.trim() && `stderr:\n${handle.stderr.trim().slice(-4000)}`,
    handle.stdout.trim() && `stdout:\n${handle.stdout.trim().slice(-4000)}`,
  ]
    .filter(Boolean)
    .join('\n');
  return new Error(`${handle.name} ${problem}${output ? `\n${output}` : ''}`);
}

/** Ends every child still running and removes every temporary directory. Safe to call twice. */
export async function cleanup() {
  await Promise.all([...children].map((handle) => stopChild(handle, 5_000)));
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

/** The last resort when the process exits without awaiting `cleanup()`: synchronous, so kill -9. */
export function cleanupNow() {
  for (const handle of children) if (isRunning(handle)) handle.child.kill('SIGKILL');
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

/** Asks the kernel for a free port, then releases it for a child to bind. */
export function findFreePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in KiB (VmRSS from /proc), or null once it is gone. */
export function rssKiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The RSS once it has settled. The server cannot be made to collect garbage from outside, so
 * this samples every `intervalMs` until `window` consecutive samples lie within `toleranceKiB`
 * of each other (or `maxMs` passes) and returns their median: the value the process holds on to,
 * not a peak left by the garbage of the work just done.
 */
export async function stableRssKiB(pid, { intervalMs = 500, window = 4, toleranceKiB = 512, maxMs = 10_000 } = {}) {
  const samples = [];
  const deadline = Date.now() + maxMs;
  for (;;) {
    const value = rssKiB(pid);
    if (value === null) throw new Error(`process ${pid} is gone`);
    samples.push(value);
    const recent = samples.slice(-window);
    const settled = recent.length === window && Math.max(...recent) - Math.min(...recent) <= toleranceKiB;
    if (settled || Date.now() >= deadline) {
      const sorted = [...recent].sort((a, b) => a - b);
      return { kib: sorted[Math.floor(sorted.length / 2)], settled, samples: samples.length };
    }
    await sleep(intervalMs);
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc; null where there is no
 * /proc (reports then leave the CPU column empty). Clock ticks are 100 Hz on Linux.
 */
export function cpuTimeMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields are counted after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * Waits until a process is at rest: it used less than `busyMs` of CPU over the last `windowMs`.
 * Work the benchmark set off (closing thousands of streams, finishing runs) goes on for a while
 * after the clients see its end; a measurement taken before that is done counts its objects.
 */
export async function waitForIdle(pid, { windowMs = 1000, busyMs = 30, maxMs = 15_000 } = {}) {
  const deadline = Date.now() + maxMs;
  const samples = [{ at: Date.now(), cpu: cpuTimeMs(pid) }];
  for (;;) {
    await sleep(250);
    const now = { at: Date.now(), cpu: cpuTimeMs(pid) };
    if (now.cpu === null) throw new Error(`process ${pid} is gone`);
    samples.push(now);
    const start = samples.find((sample) => sample.at >= now.at - windowMs - 10);
    if (now.at - samples[0].at >= windowMs && now.cpu - start.cpu < busyMs) return true;
    if (Date.now() >= deadline) return false;
  }
}

/** Samples a process's RSS every `intervalMs` in the background and keeps the peak. */
export function startRssSampler(pid, intervalMs = 200) {
  let peak = rssKiB(pid) ?? 0;
  let count = 1;
  const timer = setInterval(() => {
    const value = rssKiB(pid);
    if (value !== null) {
      peak = Math.max(peak, value);
      count += 1;
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const last = rssKiB(pid);
      if (last !== null) peak = Math.max(peak, last);
      return { peakKiB: peak, samples: count };
    },
  };
}
