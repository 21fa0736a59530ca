import http from 'node:http';
import { parseEvents, type SseEvent } from './sse-client.js';

/**
 * An SSE request whose client stops reading once the response headers arrive, as a stuck or
 * very slow client does: the kernel's socket buffers fill (a few MiB on loopback), then the
 * server's. `readToEnd` starts reading again and tells how the response ended: `end` when the
 * server finished it, `cut` when the connection was dropped under it.
 */
export class HeldStream {
  readonly #chunks: Buffer[] = [];
  readonly #ended: Promise<'end' | 'cut'>;

  private constructor(
    private readonly request: http.ClientRequest,
    private readonly response: http.IncomingMessage,
  ) {
    this.#ended = new Promise((resolve) => {
      // A connection cut mid-body is an `aborted` error here; `complete` tells the two apart.
      response.on('error', () => undefined);
      response.on('close', () => resolve(response.complete ? 'end' : 'cut'));
    });
  }

  static open(url: string, options: { key: string; headers?: Record<string, string> }): Promise<HeldStream> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        { agent: false, headers: { accept: 'text/event-stream', 'x-api-key': options.key, ...options.headers } },
        (response) => {
          response.pause();
          resolve(new HeldStream(request, response));
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  get status(): number | undefined {
    return this.response.statusCode;
  }

  /** Reads again until the response is over (bounded); the events are those of complete frames. */
  async readToEnd(timeoutMs = 10_000): Promise<{ events: SseEvent[]; ending: 'end' | 'cut' }> {
    this.response.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    this.response.resume();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the held stream did not end within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const ending = await Promise.race([this.#ended, deadline]);
      return { events: parseEvents(Buffer.concat(this.#chunks).toString('utf8')), ending };
    } finally {
      clearTimeout(timer);
    }
  }

  abort(): void {
    this.request.destroy();
  }
}
