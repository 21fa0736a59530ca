import http from 'node:http';

/** One keep-alive agent for the benchmarks' own API calls (not for the measured streams or load). */
const apiAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** JSON over node:http. */
export function requestJson({ url, method = 'GET', headers = {}, body, timeoutMs = 30_000 }) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent: apiAgent,
        headers: {
          ...headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: timeoutMs,
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
            // Not JSON: callers read `text`.
          }
          resolve({ status: response.statusCode, json, text });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
