import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { sendError } from '../../http/error-handler.js';

/**
 * Parley Studio (web/studio/, built by `npm run build` into dist/studio/) served at /studio
 * (docs/studio.md, ADR 0036). The files are public — they hold no data; every call the studio makes
 * carries the signed-in key — and read only from inside the build folder: the request path is
 * resolved against it and anything that lands outside, or names a dot-file, is 404. A path with
 * no file extension is a page of the single-page app and gets index.html.
 */

/** dist/studio/ beside this module's build (dist/features/studio/) or source (src/features/studio/). */
export const STUDIO_DIR = path.resolve(fileURLToPath(import.meta.url), '../../../../dist/studio');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The studio talks only to its own origin; nothing inline, no frames. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function registerStudioRoutes(app: FastifyInstance, options: { directory?: string } = {}): void {
  const root = path.resolve(options.directory ?? STUDIO_DIR);
  const route = { config: { public: true }, schema: { hide: true } };
  app.get('/studio', route, (_request, reply) => reply.redirect('/studio/', 302));
  app.get('/studio/', route, (request, reply) => sendFile(request, reply, root, 'index.html'));
  app.get<{ Params: { '*': string } }>('/studio/*', route, (request, reply) =>
    sendFile(request, reply, root, request.params['*']),
  );
}

async function sendFile(request: FastifyRequest, reply: FastifyReply, root: string, wanted: string) {
  const relative = path.extname(wanted) === '' ? 'index.html' : wanted;
  const file = path.resolve(root, relative);
  const inside = file.startsWith(root + path.sep) && !relative.split(/[/\\]/).some((part) => part.startsWith('.'));
  const contentType = CONTENT_TYPES[path.extname(file)];
  const found = inside && contentType !== undefined ? await stat(file).catch(() => null) : null;
  if (!found?.isFile()) return sendError(reply, request, new AppError('route_not_found'));
  // Built assets carry a content hash in their name: they never change. The page itself always revalidates.
  const immutable = relative.startsWith('assets/');
  reply
    .header('content-type', contentType!)
    .header('content-length', found.size)
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
  if (contentType!.startsWith('text/html')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  return reply.send(createReadStream(file));
}
