import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Key format: `pk_<key id, 32 hex>_<secret, 43 base64url chars = 256 random bits>`. The readable
 * id lets the server find the row without a scan; only the SHA-256 of the whole key is stored.
 */
const KEY_PATTERN = /^pk_([0-9a-f]{32})_[\w-]{43}$/;

export function generateApiKey(keyId: string): string {
  return `pk_${keyId.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
}

/** The key id (a UUID) a presented key claims, or null when the key is not well formed. */
export function parseApiKeyId(presented: string): string | null {
  const match = KEY_PATTERN.exec(presented);
  if (!match) return null;
  const hex = match[1]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** True when the presented key hashes to the stored SHA-256 (hex), compared in constant time. */
export function apiKeyMatches(presented: string, storedHash: Buffer): boolean {
  // One-shot `hash` (Node ≥ 20.12): the same digest without a Hash object, on every request.
  const digest = hash('sha256', presented, 'buffer');
  return digest.length === storedHash.length && timingSafeEqual(digest, storedHash);
}
