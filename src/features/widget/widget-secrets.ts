import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The widget's two secrets.
 * - The publishable key, `pwk_<key id, 32 hex>_<43 base64url chars = 256 random bits>`: public by
 *   design (it sits in the host page), yet only its SHA-256 is stored and it is compared in
 *   constant time, like an API key, so a database leak mints no sessions.
 * - The identity secret, `wis_<43 base64url chars>`: the host site's server keeps it and signs
 *   its users' ids with it (`user_hash` = hex HMAC-SHA256 of `user_id`). It is sealed at rest and
 *   opened to check a hash; it never goes to a browser.
 */
const PUBLISHABLE_KEY_PATTERN = /^pwk_([0-9a-f]{32})_[\w-]{43}$/;
const USER_HASH_PATTERN = /^[0-9a-f]{64}$/i;

export function generatePublishableKey(): { keyId: string; key: string } {
  const keyId = randomBytes(16).toString('hex');
  return { keyId, key: `pwk_${keyId}_${randomBytes(32).toString('base64url')}` };
}

/** The key id a presented publishable key claims, or null when it is not well formed. */
export function parsePublishableKeyId(presented: string): string | null {
  return PUBLISHABLE_KEY_PATTERN.exec(presented)?.[1] ?? null;
}

export function hashPublishableKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** True when the presented key hashes to the stored SHA-256 (hex), compared in constant time. */
export function publishableKeyMatches(presented: string, storedHashHex: string): boolean {
  const digest = createHash('sha256').update(presented).digest();
  const stored = Buffer.from(storedHashHex, 'hex');
  return digest.length === stored.length && timingSafeEqual(digest, stored);
}

export function generateIdentitySecret(): string {
  return `wis_${randomBytes(32).toString('base64url')}`;
}

/** What the host site computes for `user_id`: hex HMAC-SHA256 with the identity secret as the key. */
export function userHashOf(identitySecret: string, userId: string): string {
  return createHmac('sha256', identitySecret).update(userId, 'utf8').digest('hex');
}

/** Whether `presented` is the user hash of `userId`, compared in constant time over the 32-byte digests. */
export function userHashMatches(input: { identitySecret: string; userId: string; presented: string }): boolean {
  if (!USER_HASH_PATTERN.test(input.presented)) return false;
  const expected = createHmac('sha256', input.identitySecret).update(input.userId, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(input.presented, 'hex'));
}
