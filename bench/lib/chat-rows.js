import { performance } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir } from './children.js';
import { createBenchDatabase } from './postgres.js';

/**
 * Chat rows for the message benchmarks (bench/cursor.js, bench/message-search.js), written as the
 * stores write them (schema.ts: JSON in text columns, ISO-8601 UTC timestamps with milliseconds,
 * time-ordered UUID v7 ids) but many at a time: multi-row INSERTs of ROWS_PER_INSERT messages,
 * INSERTS_PER_TRANSACTION of them in one write unit. Migration 0012's triggers (SQLite) and
 * generated column (PostgreSQL) index every message as it is inserted, as in production.
 */
const ROWS_PER_INSERT = 500;
const INSERTS_PER_TRANSACTION = 20;

/** A fresh SQLite file or PostgreSQL database for `dialect`, and how to drop it. */
export async function openBenchTarget(dialect, prefix) {
  if (dialect === 'sqlite') {
    const directory = makeTempDir(prefix);
    return { target: { kind: 'sqlite', filename: path.join(directory, 'parley.db') }, drop: async () => {} };
  }
  const database = await createBenchDatabase();
  return { target: { kind: 'postgres', connectionString: database.url }, drop: database.drop };
}

/** An organisation, an agent of it and `threads` threads of that agent, through the store. */
export async function seedAgent({ store, threads = 1, name = 'bench' }) {
  const organizationId = randomUUID();
  const now = new Date().toISOString();
  await store.write((writers) =>
    writers.organizations.ensure({ id: organizationId, name: `${name}-${organizationId}`, now }),
  );
  const agent = await store.write((writers) =>
    writers.agents.insert({
      id: randomUUID(),
      organization_id: organizationId,
      template_id: '00000000-0000-0000-0000-000000000000',
      name: `${name} agent`,
      description: null,
      avatar_url: null,
      configuration: {},
      metadata: {},
      status: 'active',
      team_id: null,
      bot_sub: randomUUID(),
      created_at: now,
      updated_at: now,
    }),
  );
  const threadIds = [];
  for (let index = 0; index < threads; index += 1) {
    const id = uuidV7(Date.now() - threads + index);
    await store.write((writers) =>
      writers.threads.insert({
        id,
        agent_id: agent.id,
        organization_id: organizationId,
        user_id: null,
        anon_user_id: null,
        title: `bench thread ${index}`,
        metadata: {},
        created_at: now,
        updated_at: now,
      }),
    );
    threadIds.push(id);
  }
  return { organizationId, agentId: agent.id, threadIds };
}

/**
 * Appends `count` messages to `threadIds` (round robin), one millisecond apart from `firstMs`,
 * alternating user and assistant; `content(index)` gives each one's text. Returns rows a second.
 */
export async function insertMessages({ database, organizationId, threadIds, count, firstMs, content }) {
  const started = performance.now();
  const perTransaction = ROWS_PER_INSERT * INSERTS_PER_TRANSACTION;
  for (let start = 0; start < count; start += perTransaction) {
    const end = Math.min(count, start + perTransaction);
    await database.write(async (db) => {
      for (let batch = start; batch < end; batch += ROWS_PER_INSERT) {
        const rows = [];
        for (let index = batch; index < Math.min(end, batch + ROWS_PER_INSERT); index += 1) {
          const createdMs = firstMs + index;
          rows.push({
            id: uuidV7(createdMs),
            organization_id: organizationId,
            thread_id: threadIds[index % threadIds.length],
            role: index % 2 === 0 ? 'user' : 'assistant',
            content: content(index),
            content_html: null,
            attachments: '[]',
            metadata: '{}',
            created_at: new Date(createdMs).toISOString(),
          });
        }
        await db.insertInto('chat_messages').values(rows).execute();
      }
    });
  }
  return count / ((performance.now() - started) / 1000);
}

/** A UUID v7 for a given millisecond: ids sort like the rows' times, as the server's do. */
export function uuidV7(milliseconds) {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(milliseconds, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function machine() {
  return {
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGB: Math.round(os.totalmem() / 1e9),
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
  };
}
