import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, docs/webhooks.md): a secret is
 * `whsec_` + base64 of 32 random bytes; the signature of a delivery is
 * `v1,` + base64 HMAC-SHA256, keyed with the secret's decoded bytes, of `id.timestamp.body`.
 * Several signatures (during a rotation's overlap) are separated by spaces.
 */
const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** `v1,<base64>` of one secret over the signed content. */
export function signatureOf(input: { secret: string; id: string; timestamp: number; body: string }): string {
  const key = Buffer.from(input.secret.slice(SECRET_PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${input.id}.${input.timestamp}.${input.body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a delivery; `secrets` current first (a receiver may stop at the first match). */
export function signedHeaders(input: {
  secrets: readonly string[];
  id: string;
  timestamp: number;
  body: string;
}): Record<string, string> {
  const signatures = input.secrets.map((secret) => signatureOf({ ...input, secret }));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
