import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Agent, ChatThread, NewAgent, NewThread } from '../../../src/domain/models.js';
import {
  openedChatRun,
  type NewFeedback,
  type NewMessage,
  type NewRun,
  type PositionedToolCall,
} from '../../../src/domain/runs.js';
import type { Database } from '../../../src/storage/kysely/schema.js';
import type { Store } from '../../../src/storage/store.js';
import { BLANK_TEMPLATE } from '../../helpers/ids.js';

/**
 * Builders of domain inputs and rows, and the shared state of one run of the storage contract suite (test support: it
 * lives under test/, so nothing in src/ can import it or vitest).
 */
export interface ContractOrganization {
  organizationId: string;
  userId: string;
}

export interface ContractFixture {
  /** The store under test; every case goes through its readers and `write`. */
  readonly store: Store;
  /** A second handle on the same database, used only to count rows when asserting cascades. */
  readonly inspector: Kysely<Database>;
  /** A fresh organisation (with one user): cases share one database and stay apart by organisation. */
  newOrganization(): Promise<ContractOrganization>;
  newAgent(organizationId: string, overrides?: Partial<NewAgent>): Promise<Agent>;
  /** Inserts a thread and fails the case if the store refuses it. */
  newThread(input: { organizationId: string; agentId: string } & Partial<NewThread>): Promise<ChatThread>;
}

const BASE_TIME = Date.parse('2026-01-01T00:00:00.000Z');

/** A fixed ISO-8601 timestamp `seconds` after the suite's base time (cases never depend on the clock). */
export function at(seconds: number): string {
  return new Date(BASE_TIME + seconds * 1000).toISOString();
}

/**
 * Random (v4) ids, not the server's time-ordered ones: insertion order then says nothing about id
 * order, so the tie-breaking cases really test `ORDER BY …, id`.
 */
export function randomId(): string {
  return randomUUID();
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function agentInput(organizationId: string, overrides: Partial<NewAgent> = {}): NewAgent {
  const createdAt = overrides.created_at ?? at(0);
  return {
    id: randomId(),
    organization_id: organizationId,
    template_id: BLANK_TEMPLATE,
    name: 'Contract agent',
    description: null,
    avatar_url: null,
    configuration: {},
    metadata: {},
    status: 'active',
    team_id: null,
    bot_sub: randomId(),
    created_at: createdAt,
    updated_at: createdAt,
    ...overrides,
  };
}

export function threadInput(input: { organizationId: string; agentId: string } & Partial<NewThread>): NewThread {
  const { organizationId, agentId, ...overrides } = input;
  const createdAt = overrides.created_at ?? at(0);
  return {
    id: randomId(),
    organization_id: organizationId,
    agent_id: agentId,
    user_id: null,
    anon_user_id: null,
    title: 'Contract thread',
    metadata: {},
    created_at: createdAt,
    updated_at: createdAt,
    ...overrides,
  };
}

/** A run as the runtime opens one (`openedChatRun`), not tied to a thread unless overridden. */
export function runInput(input: { organizationId: string; agentId: string } & Partial<NewRun>): NewRun {
  const { organizationId, agentId, ...overrides } = input;
  const opened = openedChatRun({
    id: randomId(),
    organizationId,
    agentId,
    threadId: '',
    messageId: '',
    model: 'demo',
    startedAt: overrides.started_at ?? at(0),
    timeoutSeconds: 60,
  });
  return { ...opened, thread_id: null, message_id: null, trigger_data: {}, metadata: {}, ...overrides };
}

export function messageInput(input: { organizationId: string; threadId: string } & Partial<NewMessage>): NewMessage {
  const { organizationId, threadId, ...overrides } = input;
  return {
    id: randomId(),
    organization_id: organizationId,
    thread_id: threadId,
    role: 'user',
    content: 'Hello',
    content_html: null,
    attachments: [],
    metadata: {},
    created_at: at(0),
    ...overrides,
  };
}

export function toolCallInput(message: NewMessage, overrides: Partial<PositionedToolCall> = {}): PositionedToolCall {
  return {
    id: randomId(),
    position: 0,
    tool_name: 'lookup',
    arguments: {},
    result: null,
    error: null,
    start_time: message.created_at,
    end_time: message.created_at,
    ...overrides,
  };
}

export function feedbackInput(
  input: { organizationId: string; threadId: string; userId: string } & Partial<NewFeedback>,
): NewFeedback {
  const { organizationId, threadId, userId, ...overrides } = input;
  const createdAt = overrides.created_at ?? at(0);
  return {
    id: randomId(),
    organization_id: organizationId,
    thread_id: threadId,
    user_id: userId,
    human_message_id: null,
    ai_message_id: null,
    flow_execution_id: null,
    feedback_type: 'thumbs_up',
    issue_type: null,
    comment: null,
    created_at: createdAt,
    updated_at: createdAt,
    ...overrides,
  };
}

/** The order the readers promise for agents and threads: newest first, then id descending. */
export function newestFirst<T extends { id: string; created_at: string }>(items: readonly T[]): string[] {
  return [...items].sort((left, right) => compareDescending(left, right)).map((item) => item.id);
}

/** The order the readers promise for messages: oldest first, then id ascending. */
export function oldestFirst<T extends { id: string; created_at: string }>(items: readonly T[]): string[] {
  return [...items].sort((left, right) => compareDescending(right, left)).map((item) => item.id);
}

function compareDescending(
  left: { id: string; created_at: string },
  right: { id: string; created_at: string },
): number {
  if (left.created_at !== right.created_at) return left.created_at < right.created_at ? 1 : -1;
  if (left.id === right.id) return 0;
  return left.id < right.id ? 1 : -1;
}

/** Rows in `table` whose `column` equals `value`, counted with raw SQL: only for cascades. */
export async function countRows(
  inspector: Kysely<Database>,
  table: 'chat_threads' | 'chat_messages' | 'tool_calls' | 'message_feedback' | 'thread_events' | 'agent_tools',
  column: 'agent_id' | 'thread_id',
  value: string,
): Promise<number> {
  const result = await sql<{ count: number | string }>`
    select count(*) as count from ${sql.table(table)} where ${sql.ref(column)} = ${value}
  `.execute(inspector);
  return Number(result.rows[0]?.count);
}
