import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config.js';

/**
 * Test databases are real: a fresh SQLite file, or — with PARLEY_TEST_DATABASE=postgres — a fresh
 * PostgreSQL database created on PARLEY_TEST_POSTGRES_URL (default: the local server as the
 * current user) and dropped afterwards.
 */
export const TEST_DIALECT: 'sqlite' | 'postgres' =
  process.env.PARLEY_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

/**
 * CI sets PARLEY_TEST_POSTGRES_URL; suites that only make sense on PostgreSQL (the contract run on
 * PostgreSQL, the pool test) register nothing without it, rather than skipped or failing cases.
 */
export const POSTGRES_CONFIGURED = Boolean(process.env.PARLEY_TEST_POSTGRES_URL);

export const POSTGRES_ADMIN_URL = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  target: DatabaseTarget;
  /** Removes the file or drops the database. */
  destroy(): Promise<void>;
}

/** Runs `work` with a connection to the PostgreSQL server's admin database, closed afterwards. */
export async function withPostgresAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

export async function createTestDatabase(dialect: 'sqlite' | 'postgres' = TEST_DIALECT): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
    return {
      target: { kind: 'sqlite', filename: path.join(directory, 'parley.db') },
      destroy: async () => fs.rmSync(directory, { recursive: true, force: true }),
    };
  }
  const name = `parley_test_${crypto.randomBytes(6).toString('hex')}`;
  await withPostgresAdmin((admin) => admin.query(`create database ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    target: { kind: 'postgres', connectionString: url.toString() },
    destroy: async () => {
      await withPostgresAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}
