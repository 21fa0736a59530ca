import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../errors.js';
import { ErrorResponse, ValidationErrorResponse } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import { clientMetadataDocument } from '../../mcp/oauth/client-registration.js';
import type { OAuthAuthorization } from '../../mcp/oauth/oauth-authorization.js';
import { CALLBACK_PATH, CLIENT_METADATA_PATH } from '../../mcp/oauth/oauth-urls.js';
import { callbackPage, wantsPage } from './callback-page.js';
import { OAuthCallbackQuery, OAuthCallbackResult, OAuthClientMetadataDocument } from './mcp-oauth.schemas.js';

const common = { tags: ['mcp-servers'], 'x-parley-extension': true, security: [] };

/**
 * The two public routes of MCP servers' OAuth (docs/mcp-oauth.md): the callback the
 * authorization server sends the browser back to — authorised by its single-use `state`, not by
 * a key — and Parley's client metadata document. Browsers (Accept: text/html) get a small escaped
 * page, every other client the usual JSON and error envelope; both `no-store`.
 */
export function registerMcpOAuthRoutes(parent: FastifyInstance, dependencies: { oauth: OAuthAuthorization }): void {
  const app = typedApp(parent);
  const { oauth } = dependencies;
  app.addSchema(OAuthCallbackResult);
  app.addSchema(OAuthClientMetadataDocument);

  app.get(CALLBACK_PATH, {
    config: { public: true },
    schema: {
      ...common,
      operationId: 'completeMcpOAuth',
      summary: 'Complete an MCP server’s sign-in (the OAuth redirect URI)',
      querystring: OAuthCallbackQuery,
      response: {
        200: {
          description: 'Signed in: a page for browsers, JSON for API clients',
          content: {
            'text/html': { schema: Type.String() },
            'application/json': { schema: Type.Ref(OAuthCallbackResult) },
          },
        },
        400: Type.Ref(ErrorResponse),
        422: Type.Ref(ValidationErrorResponse),
        502: Type.Ref(ErrorResponse),
      },
    },
    handler: async (request, reply) => {
      const page = wantsPage(request.headers.accept);
      try {
        const server = await oauth.complete(request.query);
        if (!page) return { status: 'authorized' as const, mcp_server_id: server.serverId };
        return sendPage(reply, 200, 'Signed in', 'The MCP server is connected. You can close this page.');
      } catch (error) {
        if (!page || !(error instanceof AppError)) throw error;
        return sendPage(reply, error.status, 'Sign-in failed', error.message);
      }
    },
  });

  app.get(CLIENT_METADATA_PATH, {
    config: { public: true },
    schema: {
      ...common,
      operationId: 'getMcpOAuthClientMetadata',
      summary: 'Parley’s OAuth client metadata document (the client id where authorization servers support them)',
      response: { 200: Type.Ref(OAuthClientMetadataDocument) },
    },
    handler: async () => clientMetadataDocument(oauth.urls),
  });
}

function sendPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .header('referrer-policy', 'no-referrer')
    .send(callbackPage({ title, message }));
}
