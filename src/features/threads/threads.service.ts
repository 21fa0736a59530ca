import { AppError, validationError } from '../../errors.js';
import { sameId, type Clock, type IdGenerator } from '../../ids.js';
import type { ChatMessage, ChatThread, JsonObject, NewThread, Page } from '../../domain/models.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import type { ThreadChanges } from '../../domain/web-threads.js';
import { withoutSuggestions } from '../../domain/suggestions.js';
import type { ThreadVisitor } from '../../domain/widget.js';
import type { WebhookPublisher } from '../../webhooks/webhook-publisher.js';
import { cursorNotInList, cursorOf, type CursorParameters } from '../cursor-pages.js';

/** A list request's page: limit and offset, or limit and a cursor. */
type ListPage = Page & CursorParameters;

interface AgentScope {
  organizationId: string;
  agentId: string;
}

interface ThreadScope extends AgentScope {
  threadId: string;
}

/**
 * Whom a read is for: a widget visitor sees only the threads they may (their own, and once
 * identified their user's); another thread is 404 as another organisation's is. Null (an API
 * key's user) sees every thread of the agent.
 */
interface Viewer {
  visitor?: ThreadVisitor | null | undefined;
}

/** Who a new thread belongs to: a user of the organisation, or a widget visitor. */
type ThreadOwner = { userId: string } | { visitor: ThreadVisitor };

export class ThreadsService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      /** Publishes `thread.created` in the thread's transaction (docs/webhooks.md). */
      webhooks?: WebhookPublisher | undefined;
    },
  ) {}

  async create(
    input: AgentScope & {
      owner: ThreadOwner;
      body: { agent_id?: string | undefined; title?: string | null | undefined; metadata?: JsonObject | undefined };
      idempotency?: IdempotencyClaim | undefined;
    },
  ): Promise<ChatThread> {
    const { store, clock, newId } = this.dependencies;
    if (input.body.agent_id !== undefined && !sameId(input.body.agent_id, input.agentId)) {
      throw validationError(['body', 'agent_id'], 'agent_id in the body must match the agent_id in the path');
    }
    const now = clock.now().toISOString();
    const visitor = 'visitor' in input.owner ? input.owner.visitor : null;
    const thread: NewThread = {
      id: newId(),
      agent_id: input.agentId,
      user_id: 'userId' in input.owner ? input.owner.userId : null,
      anon_user_id: visitor?.anonymousUserId ?? null,
      organization_id: input.organizationId,
      title: input.body.title ?? null,
      metadata: input.body.metadata ?? {},
      created_at: now,
      updated_at: now,
    };
    const { webhooks } = this.dependencies;
    let published = 0;
    const created = await store.write(
      async (writers) => {
        // The insert and the read of the endpoints are issued together: on PostgreSQL they share a
        // pipelined round trip (a batch costs BEGIN + these, then COMMIT). Promise.all handles
        // both rejections; after a failed insert the read fails too (aborted transaction).
        const [inserted, endpoints] = await Promise.all([
          writers.threads.insert(thread, { widgetUserId: visitor?.widgetUserId ?? null }),
          webhooks?.subscriptions(writers, input.organizationId),
        ]);
        if (!inserted) throw new AppError('agent_not_found');
        if (webhooks && endpoints && endpoints.length > 0) {
          const event = { organizationId: input.organizationId, type: 'thread.created', now };
          published = (await webhooks.publishTo(writers, endpoints, [{ ...event, data: threadEventData(inserted) }]))
            .length;
        }
        return inserted;
      },
      { idempotency: input.idempotency },
    );
    if (published > 0) webhooks?.wake();
    return created;
  }

  async list(input: AgentScope & Viewer & { page: ListPage; includeMessages: boolean }): Promise<ChatThread[]> {
    const { store } = this.dependencies;
    await this.#requireAgent(input);
    const cursor = cursorOf(input.page);
    const threads = await store.threads.list({ ...input, limit: input.page.limit, offset: input.page.offset, cursor });
    if (!threads) throw cursorNotInList(cursor);
    return input.includeMessages ? withMessages(store, input.organizationId, threads) : threads;
  }

  async get(input: ThreadScope & Viewer & { includeMessages: boolean }): Promise<ChatThread> {
    const thread = await this.#requireThread(input);
    if (!input.includeMessages) return thread;
    const [withItsMessages] = await withMessages(this.dependencies.store, input.organizationId, [thread]);
    return withItsMessages!;
  }

  /** Fields left out (or undefined) stay as they are. */
  async update(input: ThreadScope & { changes: ThreadChanges }): Promise<ChatThread> {
    const now = this.dependencies.clock.now().toISOString();
    const updated = await this.dependencies.store.write((writers) =>
      writers.threads.update({ ...key(input), changes: input.changes, now }),
    );
    if (!updated) throw new AppError('thread_not_found');
    return this.get({ ...input, includeMessages: true });
  }

  async delete(input: ThreadScope): Promise<void> {
    const deleted = await this.dependencies.store.write((writers) => writers.threads.delete(key(input)));
    if (!deleted) throw new AppError('thread_not_found');
  }

  async clearAll(input: AgentScope): Promise<void> {
    await this.#requireAgent(input);
    await this.dependencies.store.write((writers) => writers.threads.deleteAllForAgent(input));
  }

  async listMessages(
    input: ThreadScope & Viewer & { page: ListPage; filterSuggestions: boolean },
  ): Promise<ChatMessage[]> {
    const { store } = this.dependencies;
    await this.#requireThread(input);
    const scope = { organizationId: input.organizationId, threadId: input.threadId };
    const cursor = cursorOf(input.page);
    const messages = await store.messages.listForThread({
      ...scope,
      limit: input.page.limit,
      offset: input.page.offset,
      cursor,
    });
    if (!messages) throw cursorNotInList(cursor);
    return input.filterSuggestions ? messages.map(withoutSuggestions) : messages;
  }

  async #requireAgent(input: AgentScope): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
  }

  async #requireThread(input: ThreadScope & Viewer): Promise<ChatThread> {
    const thread = await this.dependencies.store.threads.get({ ...key(input), visitor: input.visitor });
    if (!thread) throw new AppError('thread_not_found');
    return thread;
  }
}

/**
 * The threads with their messages embedded, oldest first, as every thread list shows them: one
 * statement for all the threads' messages (and their tool calls and ratings), never one a thread.
 */
export async function withMessages<Thread extends ChatThread>(
  store: Store,
  organizationId: string,
  threads: Thread[],
): Promise<Thread[]> {
  const messages = await store.messages.listForThreads({
    organizationId,
    threadIds: threads.map((thread) => thread.id),
  });
  return threads.map((thread) => ({ ...thread, messages: messages.get(thread.id) ?? [] }));
}

function key(input: ThreadScope): { organizationId: string; agentId: string; id: string } {
  return { organizationId: input.organizationId, agentId: input.agentId, id: input.threadId };
}

/** A new thread as `thread.created` carries it (without messages: it has none yet). */
function threadEventData(thread: ChatThread): JsonObject {
  const { messages: _messages, ...rest } = thread;
  return { ...rest };
}
