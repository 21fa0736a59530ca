import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../errors.js';
import { ErrorResponse, ValidationErrorResponse } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import { clientMetadataDocument } from '../../mcp/oauth/client-registration.js';
import type { OAuthAuthorization } from '../../mcp/oauth/oauth-authorization.js';
import { CALLBACK_PATH, CLIENT_METADATA_PATH } from '../../mcp/oauth/oauth-urls.js';
import { callbackPage, studioReturnUrl, wantsPage } from './callback-page.js';
import { OAuthCallbackQuery, OAuthCallbackResult, OAuthClientMetadataDocument } from './mcp-oauth.schemas.js';

const common = { tags: ['mcp-servers'], 'x-parley-extension': true, security: [] };

/**
 * The two public routes of MCP servers' OAuth (docs/mcp-oauth.md): the callback the
 * authorization server sends the browser back to — authorised by its single-use `state`, not by
 * a key — and Parley's client metadata document. A browser (Accept: text/html) that signed in is
 * sent back to the studio's MCP page (303); one that failed gets a small escaped page with a link
 * there; every other client the usual JSON and error envelope; all `no-store`.
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
          description: 'Signed in (API clients; a browser is sent to the studio with a 303)',
          content: { 'application/json': { schema: Type.Ref(OAuthCallbackResult) } },
        },
        303: Type.Null({ description: 'Signed in: back to the studio’s MCP page (browsers)' }),
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
        const back = studioReturnUrl(oauth.urls.redirectUri, {
          mcp_oauth: 'authorized',
          mcp_server_id: server.serverId,
        });
        return reply.code(303).header('location', back).header('referrer-policy', 'no-referrer').send(null);
      } catch (error) {
        if (!page || !(error instanceof AppError)) throw error;
        const back = studioReturnUrl(oauth.urls.redirectUri, { mcp_oauth: 'failed' });
        return sendPage(reply, error.status, { title: 'Sign-in failed', message: error.message, back });
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

function sendPage(
  reply: FastifyReply,
  status: number,
  content: { title: string; message: string; back: string },
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .header('referrer-policy', 'no-referrer')
    .send(callbackPage(content));
}
