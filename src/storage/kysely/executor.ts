import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Either the read connection (committed data only) or the transaction of a write unit. */
export type Executor = Kysely<Database> | Transaction<Database>;

export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function parseNullableJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
