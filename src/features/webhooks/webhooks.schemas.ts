import { Type } from '@fastify/type-provider-typebox';
import { WEBHOOK_SUBSCRIPTIONS } from '../../domain/webhooks.js';
import { DateTime, FreeObject, Nullable, PaginationQuery, Uuid } from '../../http/schemas.js';

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Where deliveries are POSTed: an https URL the server may reach (docs/security.md).',
  examples: ['https://hooks.example.com/parley'],
});

const Events = Type.Array(Type.Union(WEBHOOK_SUBSCRIPTIONS.map((event) => Type.Literal(event))), {
  minItems: 1,
  maxItems: 32,
  uniqueItems: true,
  description: 'Event types to receive; `execution.*` is every execution event, `*` every event.',
});

const Description = Type.String({ maxLength: 500 });

export const Webhook = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    url: Type.String(),
    description: Type.String(),
    events: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    previous_secret_expires_at: Nullable(
      Type.String({
        format: 'date-time',
        description: 'Until when deliveries also carry the signature of the secret before the last rotation.',
      }),
    ),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Webhook', additionalProperties: false, description: 'A webhook endpoint, without its secret.' },
);

const Secret = Nullable(
  Type.String({
    description:
      'The signing secret (`whsec_` + base64, Standard Webhooks). Shown only in this response (null when an Idempotency-Key replays it).',
  }),
);

export const WebhookCreated = Type.Object(
  { ...Webhook.properties, secret: Secret },
  { $id: 'WebhookCreated', additionalProperties: false },
);

export const WebhookCreate = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Description) },
  { $id: 'WebhookCreate', additionalProperties: false },
);

export const WebhookUpdate = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ description: 'false: no new deliveries are made to it.' })),
  },
  { $id: 'WebhookUpdate', additionalProperties: false, minProperties: 1 },
);

export const WebhookParams = Type.Object({ webhook_id: Uuid });

const Attempt = Type.Object(
  {
    attempt: Type.Integer(),
    status_code: Nullable(Type.Integer({ description: 'The receiver’s status; null when no response came.' })),
    duration_ms: Type.Integer(),
    error: Nullable(Type.String()),
    attempted_at: DateTime,
  },
  { additionalProperties: false },
);

export const WebhookDelivery = Type.Object(
  {
    id: Type.String({ description: 'Also the `webhook-id` header, the same on every retry.' }),
    webhook_id: Uuid,
    event_type: Type.String(),
    payload: FreeObject,
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    last_status_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
    delivered_at: Nullable(Type.String({ format: 'date-time' })),
    attempt_log: Type.Array(Attempt),
  },
  {
    $id: 'WebhookDelivery',
    additionalProperties: false,
    description: 'One event sent to one endpoint, with its attempts.',
  },
);

export const WebhookDeliveriesQuery = Type.Object({
  ...PaginationQuery,
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
});

export const WebhookDeliveries = Type.Object(
  { deliveries: Type.Array(Type.Ref(WebhookDelivery)), limit: Type.Integer(), offset: Type.Integer() },
  { $id: 'WebhookDeliveries', additionalProperties: false },
);

export const WebhookSecret = Type.Object(
  {
    secret: Type.Union([Type.String(), Type.Null()], {
      description: 'The new signing secret; shown only in this response (null when an Idempotency-Key replays it).',
    }),
    previous_secret_expires_at: Type.String({
      format: 'date-time',
      description: 'Until then deliveries carry both signatures (new first), then only the new one.',
    }),
  },
  { $id: 'WebhookSecret', additionalProperties: false },
);
