import { AppError, validationError } from '../../errors.js';
import { sameId, type Clock, type IdGenerator } from '../../ids.js';
import type { ChatMessage, JsonObject } from '../../domain/models.js';
import { formatEventId, type EventId } from '../../runtime/event-id.js';
import type { FollowConsumer, ThreadEventLog } from '../../runtime/event-log.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import type { RemoteCancel } from '../../runtime/remote-cancel.js';
import { newMessageOf } from '../../domain/runs.js';
import type { AgentRuntime, StartedRun } from '../../runtime/run-agent.js';
import type { ToolCallDecision } from '../../runtime/approval-decisions.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import type { ThreadVisitor } from '../../domain/widget.js';

interface ThreadScope {
  organizationId: string;
  agentId: string;
  threadId: string;
  /** A widget visitor reaches only threads they may see: any other is 404 `thread_not_found`. */
  visitor?: ThreadVisitor | null | undefined;
}

export interface MessageInput {
  content: string;
  role: string;
  content_html?: string | null | undefined;
  metadata?: JsonObject | undefined;
  agent_id?: string | undefined;
}

/** Where a follower asks to resume, and where in the request it said so. */
export interface ResumePoint {
  id: EventId;
  loc: (string | number)[];
}

export type AddedMessage =
  { kind: 'run'; run: StartedRun } | { kind: 'stored'; message: ChatMessage; events: LiveEvent[] };

export class MessagesService {
  constructor(
    private readonly dependencies: {
      store: Store;
      runtime: AgentRuntime;
      eventLog: ThreadEventLog;
      clock: Clock;
      newId: IdGenerator;
      /** Reaches a run another process owns (with `REDIS_URL`); null: a run is here or nowhere. */
      remoteCancel?: RemoteCancel | null;
    },
  ) {}

  /** A user message starts a run; any other role is stored as it is, without one. */
  async add(
    input: ThreadScope & { body: MessageInput; idempotency?: IdempotencyClaim | undefined },
  ): Promise<AddedMessage> {
    const { store, runtime } = this.dependencies;
    if (input.body.agent_id !== undefined && !sameId(input.body.agent_id, input.agentId)) {
      throw validationError(['body', 'agent_id'], 'agent_id in the body must match the agent_id in the path');
    }
    const agent = await store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
    if (input.visitor) await this.#requireVisitorThread(input, input.visitor);
    if (input.body.role !== 'user') return { kind: 'stored', ...(await this.#store(input)) };
    const run = await runtime.start({
      organizationId: input.organizationId,
      agent,
      threadId: input.threadId,
      content: input.body.content,
      contentHtml: input.body.content_html ?? null,
      metadata: input.body.metadata ?? {},
      idempotency: input.idempotency,
    });
    return { kind: 'run', run };
  }

  /** Adds the message and, for a user message, waits for the stored reply. */
  async addAndWait(
    input: ThreadScope & { body: MessageInput; idempotency?: IdempotencyClaim | undefined },
  ): Promise<ChatMessage> {
    const added = await this.add(input);
    if (added.kind === 'stored') return added.message;
    const result = await added.run.completion;
    if (result.error?.code === 'model_error') throw new AppError('model_error', { message: result.error.message });
    if (result.error?.code === 'run_timeout') throw new AppError('run_timeout');
    if (result.error) throw new AppError('internal_error');
    return result.message;
  }

  async cancel(
    input: ThreadScope & { runId: string },
  ): Promise<{ run_id: string; status: string; message_id: string }> {
    // A visitor (the widget's Stop) cancels runs of their own threads only; any other thread is unknown to them.
    if (input.visitor) {
      const { organizationId, agentId, threadId: id, visitor } = input;
      if (!(await this.dependencies.store.threads.get({ organizationId, agentId, id, visitor }))) {
        throw new AppError('thread_not_found');
      }
    }
    const execution = await this.dependencies.store.runs.get({ organizationId: input.organizationId, id: input.runId });
    const belongs = execution && execution.agent_id === input.agentId && execution.thread_id === input.threadId;
    if (!belongs) throw new AppError('run_not_found');
    if (execution.message_id === null) throw new AppError('run_not_active');
    const { runtime } = this.dependencies;
    // A run waiting for approvals is on no process: it is taken back here to be stopped.
    const cancelled =
      execution.status === 'pending'
        ? await runtime.cancelWaiting(input)
        : execution.status === 'running' && (runtime.cancel(input) || (await this.#cancelElsewhere(input)));
    if (!cancelled) throw new AppError('run_not_active');
    return { run_id: input.runId, status: 'cancelling', message_id: execution.message_id };
  }

  /**
   * A running run that is not on this process: asks the process that owns it (over Redis). No
   * answer while the run is still stored as running is a 503 `run_unreachable`: its process is
   * gone (its runs are failed once its heartbeat is missed) or Redis cannot be reached.
   */
  async #cancelElsewhere(input: ThreadScope & { runId: string }): Promise<boolean> {
    const { remoteCancel, store } = this.dependencies;
    if (!remoteCancel) return false;
    if ((await remoteCancel.cancel(input)) === 'cancelled') return true;
    const now = await store.runs.get({ organizationId: input.organizationId, id: input.runId });
    if (now?.status === 'running') throw new AppError('run_unreachable');
    return false;
  }

  /** Approves or rejects a call a run of this thread waits on (see AgentRuntime.decideToolCall). */
  decideToolCall(
    input: ThreadScope & {
      runId: string;
      toolCallId: string;
      decision: ToolCallDecision;
      idempotency?: IdempotencyClaim | undefined;
    },
  ) {
    return this.dependencies.runtime.decideToolCall(input);
  }

  /**
   * Checks the thread belongs to the caller; the stream position to follow from (the log's end
   * when none is given). A position past the log's end cannot have been sent by this server:
   * following from it would skip every later event silently, so it is a 422 at `resume.loc`.
   */
  async prepareFollow(input: ThreadScope & { resume: ResumePoint | null }): Promise<EventId> {
    const thread = await this.dependencies.store.threads.get({
      organizationId: input.organizationId,
      agentId: input.agentId,
      id: input.threadId,
      visitor: input.visitor,
    });
    if (!thread) throw new AppError('thread_not_found');
    const lastSeq =
      (await this.dependencies.store.events.lastSeq({
        organizationId: input.organizationId,
        threadId: input.threadId,
      })) ?? 0;
    if (!input.resume) return { seq: lastSeq, delta: 0 };
    if (input.resume.id.seq > lastSeq) {
      throw validationError(
        input.resume.loc,
        `Event ${formatEventId(input.resume.id)} is past the end of this thread's log (its last event is ${lastSeq})`,
      );
    }
    return input.resume.id;
  }

  /**
   * Where to follow the thread's active run from so that its whole reply is seen: just before
   * its `run-start`. Null when no run is active; 404 for a thread that is not the caller's.
   */
  async activeRun(input: ThreadScope): Promise<{ runId: string; after: EventId } | null> {
    const { store, clock } = this.dependencies;
    const thread = await store.threads.get({
      organizationId: input.organizationId,
      agentId: input.agentId,
      id: input.threadId,
      visitor: input.visitor,
    });
    if (!thread) throw new AppError('thread_not_found');
    const active = await store.events.activeRun({
      organizationId: input.organizationId,
      threadId: input.threadId,
      now: clock.now().toISOString(),
    });
    if (!active) return null;
    if (active.startSeq !== null) return { runId: active.runId, after: { seq: active.startSeq - 1, delta: 0 } };
    // The claim and `run-start` commit together, so this is a run whose start left the log
    // (none today): what is left of it is what comes next.
    const lastSeq = await store.events.lastSeq({ organizationId: input.organizationId, threadId: input.threadId });
    return { runId: active.runId, after: { seq: lastSeq ?? 0, delta: 0 } };
  }

  /** The thread's events after `after` (see `ThreadEventLog.follow`; `consumer` paces the replay). */
  follow(
    input: ThreadScope & { after: EventId; signal: AbortSignal; consumer?: FollowConsumer },
  ): AsyncGenerator<LiveEvent> {
    return this.dependencies.eventLog.follow(input);
  }

  /**
   * A visitor's message goes only to a thread they may see, and is a user message: the roles
   * that shape the agent's context (system, assistant, tool) are the organisation's to write.
   */
  async #requireVisitorThread(scope: ThreadScope & { body: MessageInput }, visitor: ThreadVisitor): Promise<void> {
    const thread = await this.dependencies.store.threads.get({
      organizationId: scope.organizationId,
      agentId: scope.agentId,
      id: scope.threadId,
      visitor,
    });
    if (!thread) throw new AppError('thread_not_found');
    if (scope.body.role !== 'user') {
      throw validationError(['body', 'role'], 'A widget visitor may post only messages with role "user"');
    }
  }

  async #store(
    input: ThreadScope & { body: MessageInput; idempotency?: IdempotencyClaim | undefined },
  ): Promise<{ message: ChatMessage; events: LiveEvent[] }> {
    const { store, clock, newId, eventLog } = this.dependencies;
    const thread = await store.threads.get({
      organizationId: input.organizationId,
      agentId: input.agentId,
      id: input.threadId,
    });
    if (!thread) throw new AppError('thread_not_found');
    const message: ChatMessage = {
      id: newId(),
      thread_id: input.threadId,
      content: input.body.content,
      content_html: input.body.content_html ?? null,
      role: input.body.role,
      tool_calls: [],
      attachments: [],
      metadata: input.body.metadata ?? {},
      created_at: clock.now().toISOString(),
      feedback: null,
    };
    const events = await eventLog.write(
      async ({ writers, append }) => {
        const appended = await append({
          organizationId: input.organizationId,
          threadId: input.threadId,
          now: message.created_at,
          events: [
            { type: 'message-start', data: { message_id: message.id, role: message.role, run_id: null } },
            { type: 'message-end', data: { message } },
          ],
        });
        if (!appended) throw new AppError('thread_not_found');
        await writers.messages.insert(newMessageOf(message, input.organizationId));
        return appended;
      },
      { idempotency: input.idempotency, replayBody: () => message },
    );
    return {
      message,
      events: events.map(({ seq, created_at: _createdAt, ...event }) => ({ ...event, id: { seq, delta: 0 } })),
    };
  }
}
