import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits: the `state` sent to the authorization server (RFC 6749 §10.12). */
export function newStateValue(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored of a state: its SHA-256, so a database read gives nobody a usable callback. */
export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('base64url');
}
