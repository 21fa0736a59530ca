import net from 'node:net';
import { freePort } from './server-process.js';

export interface TcpRelay {
  /** The relay's address as a redis:// URL. */
  url: string;
  /** Drops every connection and stops listening: what is behind it is "down". */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
}

/**
 * A TCP relay on a free loopback port in front of `target` (host:port) that a test can cut and
 * restore: "Redis down" without touching the server other tests share.
 */
export async function startTcpRelay(target: { hostname: string; port: number }): Promise<TcpRelay> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const restore = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((socket) => {
        const upstream = net.connect(target.port, target.hostname);
        sockets.add(socket).add(upstream);
        for (const side of [socket, upstream]) {
          side.on('error', () => side.destroy());
          side.on('close', () => sockets.delete(side));
        }
        socket.pipe(upstream).pipe(socket);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  await restore();
  return { url: `redis://127.0.0.1:${port}`, cut, restore };
}
