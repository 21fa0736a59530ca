import http from 'node:http';
import { createParser } from 'eventsource-parser';

/**
 * Server-sent events over node:http, read with eventsource-parser. node:http rather than fetch:
 * the benchmarks need to control the connection pool (thousands of sockets) and to timestamp each
 * chunk the moment the socket delivers it.
 */

/**
 * Milliseconds on the monotonic clock (CLOCK_MONOTONIC through process.hrtime). Every process on
 * the machine reads the same clock, so a timestamp taken in the fake model's process can be
 * subtracted from one taken here.
 */
export function hrtimeMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Opens a stream and calls `onEvent(event, receivedAtMs)` for each event, where `receivedAtMs` is
 * when the chunk holding it arrived (so parsing earlier events of the same chunk is not counted).
 * Resolves when the server ends the response; rejects on a non-200 answer, a socket error or
 * `timeoutMs`. `onEvent` may return true to close the stream early (resolves too).
 */
export function streamEvents({ url, method = 'GET', headers = {}, body, agent, onEvent, timeoutMs = 60_000 }) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = hrtimeMs();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    };
    const request = http.request(url, {
      method,
      agent,
      headers: {
        accept: 'text/event-stream',
        ...headers,
        ...(payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish(new Error(`${method} ${url} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', (error) => finish(error));
    request.on('response', (response) => {
      const headersAt = hrtimeMs();
      if (response.statusCode !== 200) {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          finish(new Error(`${method} ${url} answered ${response.statusCode}: ${text.slice(0, 300)}`)),
        );
        return;
      }
      let receivedAt = headersAt;
      let stopped = false;
      const parser = createParser({
        onEvent: (event) => {
          if (stopped) return;
          if (onEvent(event, receivedAt) === true) {
            stopped = true;
            request.destroy();
            finish(null, { headersMs: headersAt - started, durationMs: hrtimeMs() - started });
          }
        },
      });
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        receivedAt = hrtimeMs();
        parser.feed(chunk);
      });
      response.on('end', () => finish(null, { headersMs: headersAt - started, durationMs: hrtimeMs() - started }));
      response.on('error', (error) => finish(error));
      // A socket closed by the server before the end of the response is an error, not an end.
      response.on('close', () => {
        if (!response.complete) finish(new Error(`${method} ${url}: the connection closed before the stream ended`));
      });
    });
    request.end(payload);
  });
}

/**
 * Opens a stream that is only held open: resolves once the response headers arrive, with a handle
 * whose `close()` drops the connection. Incoming bytes (keep-alive comments) are read and thrown
 * away so the server never sees back-pressure. `onEvent`, if given, sees every parsed event.
 */
export function openHeldStream({ url, headers = {}, agent, timeoutMs = 30_000, onEvent, onClose }) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'GET', agent, headers: { accept: 'text/event-stream', ...headers } });
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error(`GET ${url}: no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response) => {
      clearTimeout(timer);
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        return;
      }
      let closedByUs = false;
      const parser = onEvent ? createParser({ onEvent }) : null;
      response.setEncoding('utf8');
      response.on('data', (chunk) => parser?.feed(chunk));
      response.on('error', () => {});
      response.on('close', () => onClose?.({ closedByUs }));
      resolve({
        close() {
          closedByUs = true;
          request.destroy();
        },
      });
    });
    request.end();
  });
}
