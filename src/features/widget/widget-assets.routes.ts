import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { demoPage } from './widget-demo-page.js';

/**
 * Where `npm run build` (scripts/build-widget.js) writes the widget's bundle. This file sits three
 * folders below the package root both as source (src/features/widget) and built (dist/features/widget).
 */
const BUNDLE_URL = new URL('../../../dist/widget/widget.js', import.meta.url);

/**
 * Host pages embed the script by a fixed URL, so it cannot be cached for ever: five minutes, then
 * a revalidation that the ETag (the bundle's hash) answers with 304 until the server is upgraded.
 */
const CACHE_CONTROL = 'public, max-age=300, must-revalidate';

interface Bundle {
  body: Buffer;
  etag: string;
}

/**
 * The widget's public files: `GET /widget.js` (the bundle any allowed page embeds) and
 * `GET /widget/demo` (a host page that embeds it, docs/widget.md). Neither needs a key, and
 * neither tells anything about an organisation: the publishable key in the demo page is the one
 * its URL (or `WIDGET_DEMO_KEY`) names.
 */
export function registerWidgetAssetRoutes(app: FastifyInstance, options: { demoKey: string | undefined }): void {
  let bundle: Promise<Bundle> | undefined;
  const loadBundle = (): Promise<Bundle> => {
    bundle ??= readBundle().catch((error: unknown) => {
      bundle = undefined; // built later (npm run build while the server runs): read it again next time
      throw error;
    });
    return bundle;
  };

  app.get('/widget.js', {
    config: { public: true },
    schema: { hide: true },
    handler: async (request, reply) => {
      const { body, etag } = await loadBundle();
      reply
        .header('cache-control', CACHE_CONTROL)
        .header('etag', etag)
        // Any site may load it with <script src>, including pages that require CORP (COEP).
        .header('cross-origin-resource-policy', 'cross-origin');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('text/javascript; charset=utf-8').send(body);
    },
  });

  app.get('/widget/demo', {
    config: { public: true },
    schema: { hide: true },
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const page = demoPage({ query, demoKey: options.demoKey });
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', page.contentSecurityPolicy)
        .header('referrer-policy', 'no-referrer')
        .send(page.html);
    },
  });
}

async function readBundle(): Promise<Bundle> {
  let body: Buffer;
  try {
    body = await readFile(BUNDLE_URL);
  } catch {
    throw new AppError('service_unavailable', { message: 'The widget is not built: run `npm run build`.' });
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, etag };
}
