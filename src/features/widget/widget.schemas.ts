import { Type } from '@fastify/type-provider-typebox';
import { DateTime, Nullable, Uuid } from '../../http/schemas.js';

const Origin = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'A page origin exactly as the browser sends it: scheme, host and optional port, no path.',
  examples: ['https://shop.example'],
});

export const WidgetKey = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    agent_id: Uuid,
    name: Type.String(),
    prefix: Type.String({ description: 'The start of the publishable key (`pwk_<key id>_`), to recognise it.' }),
    allowed_origins: Type.Array(Type.String()),
    created_at: DateTime,
    revoked_at: Nullable(DateTime),
  },
  { $id: 'WidgetKey', additionalProperties: false, description: 'A publishable widget key, without its secrets.' },
);

export const WidgetKeyCreate = Type.Object(
  {
    agent_id: Uuid,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    allowed_origins: Type.Array(Origin, { minItems: 1, maxItems: 32 }),
  },
  { $id: 'WidgetKeyCreate', additionalProperties: false },
);

export const WidgetKeyCreated = Type.Object(
  {
    ...WidgetKey.properties,
    publishable_key: Nullable(
      Type.String({
        description:
          'The key the host page embeds (`pwk_…`). Shown only in this response (null when an Idempotency-Key replays it).',
      }),
    ),
    identity_secret: Nullable(
      Type.String({
        description:
          'The host server’s secret for `user_hash` (HMAC-SHA256 of the user id). Keep it on the server; shown only in this response.',
      }),
    ),
  },
  { $id: 'WidgetKeyCreated', additionalProperties: false },
);

export const WidgetKeyParams = Type.Object({ widget_key_id: Uuid });

export const WidgetKeyListQuery = Type.Object({ agent_id: Type.Optional(Uuid) });

export const WidgetSessionCreate = Type.Object(
  {
    widget_key: Type.String({ minLength: 1, maxLength: 200, description: 'The publishable widget key (`pwk_…`).' }),
    token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'The page’s current visitor token, to renew it: the same `anon_user_id` gets a new token, and this one stops working.',
      }),
    ),
  },
  { $id: 'WidgetSessionCreate', additionalProperties: false },
);

export const WidgetSession = Type.Object(
  {
    token: Type.String({ description: 'The visitor token: send it as `Authorization: Bearer <token>`.' }),
    anon_user_id: Uuid,
    agent_id: Type.String({
      format: 'uuid',
      description: 'The agent the widget key is bound to: the `{agent_id}` of the chat routes the visitor calls.',
    }),
    expires_at: DateTime,
  },
  { $id: 'WidgetSession', additionalProperties: false, description: 'A widget visitor’s session (docs/widget.md).' },
);

export const WidgetIdentify = Type.Object(
  {
    user_id: Type.String({ minLength: 1, maxLength: 255, description: 'The host site’s own id of the user.' }),
    name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    user_hash: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Hex HMAC-SHA256 of `user_id` with the widget key’s identity secret, computed by the host’s server.',
    }),
  },
  { $id: 'WidgetIdentify', additionalProperties: false },
);

export const WidgetUser = Type.Object(
  {
    id: Uuid,
    user_name: Nullable(Type.String()),
    user_email: Nullable(Type.String()),
    verified_user_name: Nullable(Type.String()),
    verified_user_email: Nullable(Type.String()),
    ip_address: Nullable(Type.String()),
    verified: Type.Boolean(),
    identified_by_tool: Type.Boolean(),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'WidgetUser', additionalProperties: false },
);

export const IdentifiedVisitor = Type.Object(
  { anon_user_id: Uuid, widget_user: Type.Ref(WidgetUser) },
  { $id: 'IdentifiedVisitor', additionalProperties: false },
);
