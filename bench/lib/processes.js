import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes for the benchmark: every server runs in its own process, so the load generator
 * (this process) never shares an event loop with the thing it measures.
 */

/** Every child still running; `stopAll` ends them on any exit path. */
const running = new Set();

/** Keeps only the tail of a stream: enough to show why a server failed, never unbounded. */
const OUTPUT_TAIL_BYTES = 64 * 1024;

/** Asks the kernel for a port nobody uses, then releases it for the child to bind. */
export async function findFreePort(host = '127.0.0.1') {
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

/**
 * Starts `node [nodeArgs] script [args]` with the given environment. The returned handle keeps
 * the tail of stdout and stderr and lets callers wait for a line on stdout.
 */
export function startNode({ name, script, args = [], nodeArgs = [], env }) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = {
    name,
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  running.add(handle);
  handle.exit.then(() => running.delete(handle));
  // Both pipes must be read continuously, or a chatty child blocks once the pipe buffer fills.
  child.stdout.setEncoding('utf8').on('data', (text) => (handle.stdout = tail(handle.stdout + text)));
  child.stderr.setEncoding('utf8').on('data', (text) => (handle.stderr = tail(handle.stderr + text)));
  return handle;
}

function tail(text) {
  return text.length > OUTPUT_TAIL_BYTES ? text.slice(-OUTPUT_TAIL_BYTES) : text;
}

/** Resolves with the first match of `pattern` on the child's stdout; rejects if it exits first. */
export async function waitForOutput(handle, pattern, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  handle.exit.then(() => (exited = true));
  for (;;) {
    const match = pattern.exec(handle.stdout);
    if (match) return match;
    if (exited) throw childFailure(handle, `exited before printing ${pattern}`);
    if (Date.now() > deadline) throw childFailure(handle, `did not print ${pattern} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Polls `GET url` until it answers 200: the server listens and its database answers. */
export async function waitForHttpOk(handle, url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  handle.exit.then(() => (exited = true));
  for (;;) {
    const response = await requestJson({ url }).catch(() => null);
    if (response?.status === 200) return;
    if (exited) throw childFailure(handle, `exited before ${url} answered 200`);
    if (Date.now() > deadline) throw childFailure(handle, `${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Sends SIGTERM and waits for the exit. A child that outlives the grace period is killed, and
 * that is reported as a failure by the caller (it did not shut down cleanly).
 */
export async function stopNode(handle, graceMs = 20_000) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return handle.exit;
  handle.child.kill('SIGTERM');
  // Unreferenced: a pending grace timer must not keep the benchmark alive after the child exited.
  const outcome = await Promise.race([handle.exit, sleep(graceMs, null, { ref: false })]);
  if (outcome) return outcome;
  handle.child.kill('SIGKILL');
  const killed = await handle.exit;
  return { ...killed, timedOut: true };
}

/** Last-resort cleanup: ends every child this process started (and only those). */
export async function stopAll() {
  await Promise.all([...running].map((handle) => stopNode(handle, 5_000)));
}

export function childFailure(handle, problem) {
  const output = [
    handle.stderr.trim() && `stderr:\n${handle.stderr.trim()}`,
    handle.stdout.trim() && `stdout:\n${handle.stdout.trim()}`,
  ]
    .filter(Boolean)
    .join('\n');
  return new Error(`${handle.name} ${problem}${output ? `\n${output}` : ''}`);
}

/** A small JSON-over-HTTP helper (node:http, so no global fetch is needed). */
export function requestJson({ url, method = 'GET', headers = {}, body }) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        headers: {
          ...headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 5_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          let json = null;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            // Not JSON: callers look at `text`.
          }
          resolve({ status: response.statusCode, json, text });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${url} timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * CPU time (user + system) the child has used so far, in ms, from /proc; null where there is no
 * /proc (the report then leaves the CPU column empty). Clock ticks are 100 Hz on Linux.
 */
export function cpuTimeMs(handle) {
  try {
    const stat = fs.readFileSync(`/proc/${handle.child.pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields are counted after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}
