import crypto from 'node:crypto';
import pg from 'pg';

/**
 * A throw-away PostgreSQL database per run. The admin URL points at an existing database on the
 * server (normally `postgres`); the benchmark database is created next to it and dropped after.
 */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function withAdmin(work) {
  // A short connect timeout: an absent server should skip the PostgreSQL part quickly, not hang.
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates `parley_bench_<random>` and returns its URL and a `drop` function. */
export async function createBenchDatabase() {
  const name = `parley_bench_${crypto.randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // WITH (FORCE) ends connections a crashed server may have left behind.
    drop: () => withAdmin((client) => client.query(`drop database if exists ${name} with (force)`)),
  };
}

export async function countRows(databaseUrl, table) {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    const { rows } = await client.query(`select count(*)::int as n from ${table}`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}
