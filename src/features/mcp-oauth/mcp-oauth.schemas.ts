import { Type } from '@fastify/type-provider-typebox';

/** What an authorization server appends to the redirect URI; anything else it adds is ignored. */
export const OAuthCallbackQuery = Type.Object({
  state: Type.Optional(Type.String({ maxLength: 512 })),
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 2048 })),
  error_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const OAuthCallbackResult = Type.Object(
  {
    status: Type.Literal('authorized'),
    mcp_server_id: Type.String(),
  },
  { $id: 'McpOAuthCallbackResult' },
);

/** Parley's OAuth client metadata (RFC 7591 §2), served as a Client ID Metadata Document. */
export const OAuthClientMetadataDocument = Type.Object(
  {
    client_id: Type.String(),
    client_name: Type.String(),
    redirect_uris: Type.Array(Type.String()),
    grant_types: Type.Array(Type.String()),
    response_types: Type.Array(Type.String()),
    token_endpoint_auth_method: Type.String(),
    application_type: Type.String(),
  },
  { $id: 'McpOAuthClientMetadata' },
);
