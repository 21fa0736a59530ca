import type {
  FeedbackAuthor,
  FeedbackCursor,
  FeedbackDetails,
  FeedbackFilter,
  FeedbackRecord,
  StoredFlowFeedback,
} from '../../domain/feedback.js';
import { AppError, validationError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { EventUnit, ThreadEventLog } from '../../runtime/event-log.js';
import type { IdempotencyClaim, Store, StoreWriters } from '../../storage/store.js';
import {
  chatViewOf,
  flowViewOf,
  simpleOf,
  type ChatMessageFeedbackView,
  type FlowFeedbackView,
} from './feedback-views.js';
import { exportFeedback, type ExportFormat } from './feedback-export.js';
import { utcTimeRange } from '../time-range.js';
import type { JsonObject } from '../../domain/models.js';
import type { WebhookPublisher } from '../../webhooks/webhook-publisher.js';

export interface RatingRequest {
  organizationId: string;
  author: FeedbackAuthor;
  source: string;
  details: FeedbackDetails;
  idempotency?: IdempotencyClaim | undefined;
}

export interface FeedbackPage {
  feedback: FeedbackRecord[];
  has_more: boolean;
}

type MessageKey = { organizationId: string; author: FeedbackAuthor; messageId: string };

/** Ratings of answers and of runs: given, replaced, revoked, listed (docs/feedback.md). */
export class FeedbackService {
  constructor(
    private readonly dependencies: {
      store: Store;
      eventLog: ThreadEventLog;
      clock: Clock;
      newId: IdGenerator;
      /** Publishes `feedback.created` in the rating's transaction (docs/webhooks.md). */
      webhooks?: WebhookPublisher | undefined;
    },
  ) {}

  /**
   * Rates an assistant message for its author (or, with `feedback_type` null, withdraws their
   * rating) and appends `feedback-created` to its thread's log, in one transaction. 404 for a
   * message the author cannot see, 422 for one that is not an answer; neither stores anything.
   */
  rateMessage(input: RatingRequest & { messageId: string }): Promise<ChatMessageFeedbackView> {
    const key = {
      organizationId: input.organizationId,
      author: input.author,
      messageId: input.messageId.toLowerCase(),
    };
    return this.#publishing((published) =>
      this.dependencies.eventLog.write((unit) => this.#rateMessage(unit, input, key, published), {
        idempotency: input.idempotency,
      }),
    );
  }

  /** Runs a rating's write; wakes the delivery queue after it committed when it published an event. */
  async #publishing<T>(work: (published: { count: number }) => Promise<T>): Promise<T> {
    const published = { count: 0 };
    const result = await work(published);
    if (published.count > 0) this.dependencies.webhooks?.wake();
    return result;
  }

  /** `feedback.created` for a rating given (not for one withdrawn); counted in `published`. */
  async #publish(
    writers: StoreWriters,
    input: { organizationId: string; now: string; data: JsonObject },
    published: { count: number },
  ) {
    const { webhooks } = this.dependencies;
    if (!webhooks) return;
    const event = { organizationId: input.organizationId, type: 'feedback.created', data: input.data, now: input.now };
    published.count = (await webhooks.publish(writers, event)).length;
  }

  async #rateMessage(
    unit: EventUnit,
    input: RatingRequest,
    key: MessageKey,
    published: { count: number },
  ): Promise<ChatMessageFeedbackView> {
    const { clock, newId } = this.dependencies;
    const now = clock.now().toISOString();
    const { writers } = unit;
    const revoking = input.details.feedback_type === null;
    const rating = revoking
      ? await writers.feedback.revokeMessage(key)
      : await writers.feedback.rateMessage({ ...key, id: newId(), now, source: input.source, details: input.details });
    if (!rating) return this.#nothingStored(writers, input, key);
    const feedback = revoking ? { ...simpleOf(rating), feedback_type: null, updated_at: now } : simpleOf(rating);
    await unit.append({
      organizationId: input.organizationId,
      threadId: rating.thread_id,
      now,
      events: [{ type: 'feedback-created', data: { message_id: key.messageId, revoked: revoking, feedback } }],
    });
    const view = chatViewOf(feedback);
    if (!revoking)
      await this.#publish(writers, { ...input, now, data: { target: 'message', feedback: { ...view } } }, published);
    return view;
  }

  /** Why a rating stored nothing; a revocation with nothing to revoke answers the rating as it stands: none. */
  async #nothingStored(writers: StoreWriters, input: RatingRequest, key: MessageKey): Promise<ChatMessageFeedbackView> {
    const message = await writers.feedback.locateMessage(key);
    if (!message) throw new AppError('message_not_found');
    if (message.role !== 'assistant') throw new AppError('feedback_target_not_answer');
    return chatViewOf({
      id: null,
      human_message_id: null,
      ai_message_id: key.messageId,
      flow_execution_id: null,
      user_id: authorId(input.author),
      organization_id: input.organizationId,
      feedback_type: null,
      issue_type: input.details.issue_type,
      comment: input.details.comment,
      created_at: null,
      updated_at: null,
    });
  }

  /** Rates a run (flow execution), or withdraws the rating; 404 for a run that is not the organisation's. */
  rateRun(input: RatingRequest & { runId: string }): Promise<FlowFeedbackView> {
    const { store, clock, newId } = this.dependencies;
    const key = { organizationId: input.organizationId, author: input.author, runId: input.runId.toLowerCase() };
    return this.#publishing((published) =>
      store.write(
        async (writers) => {
          const now = clock.now().toISOString();
          const id = newId();
          const revoking = input.details.feedback_type === null;
          const rating: StoredFlowFeedback | null = revoking
            ? await writers.feedback.revokeRun(key)
            : await writers.feedback.rateRun({ ...key, id, now, source: input.source, details: input.details });
          if (rating && revoking) return flowViewOf({ ...rating, feedback_type: null, updated_at: now });
          if (rating) {
            const view = flowViewOf(rating);
            await this.#publish(writers, { ...input, now, data: { target: 'run', feedback: { ...view } } }, published);
            return view;
          }
          if (!(await writers.feedback.runExists(key))) throw new AppError('flow_execution_not_found');
          // Nothing to revoke: FlowFeedback requires an id and times, so it gets ones stored nowhere.
          return flowViewOf({
            id,
            flow_execution_id: key.runId,
            user_id: authorId(input.author),
            anon_user_id: null,
            organization_id: input.organizationId,
            source: input.source,
            context_id: input.details.context_id,
            feedback_type: null,
            issue_type: input.details.issue_type,
            comment: input.details.comment,
            created_at: now,
            updated_at: now,
          });
        },
        { idempotency: input.idempotency },
      ),
    );
  }

  /** One page of the organisation's ratings of answers, newest first. */
  async list(
    input: FeedbackFilter & { limit: number; offset: number; before?: string | undefined; after?: string | undefined },
  ): Promise<FeedbackPage> {
    const { limit, offset, before, after, ...filter } = input;
    const cursor = await this.#cursor(input.organizationId, { before, after });
    const rows = await this.dependencies.store.feedback.list({
      ...normalizedFilter(filter),
      cursor,
      limit: limit + 1,
      offset,
    });
    // A `before` page is read towards the newest, so its extra row is at the front.
    const page = cursor?.direction === 'before' ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
    return { feedback: page, has_more: rows.length > limit };
  }

  /** The ratings that match, with their conversation, as text chunks read in keyset batches (see exportFeedback). */
  export(input: { filter: FeedbackFilter; format: ExportFormat }): AsyncGenerator<string> {
    const filter = normalizedFilter(input.filter);
    return exportFeedback({ store: this.dependencies.store, filter, format: input.format });
  }

  async #cursor(
    organizationId: string,
    input: { before?: string | undefined; after?: string | undefined },
  ): Promise<FeedbackCursor | undefined> {
    if (input.before !== undefined && input.after !== undefined) {
      throw validationError(['query', 'before'], 'Give `before` or `after`, not both');
    }
    const direction = input.before !== undefined ? 'before' : input.after !== undefined ? 'after' : null;
    if (direction === null) return undefined;
    const id = (input.before ?? input.after ?? '').toLowerCase();
    const place = await this.dependencies.store.feedback.cursorOf({ organizationId, id });
    if (!place) throw validationError(['query', direction], 'No feedback of this organisation has this id');
    return { direction, ...place };
  }
}

/** The filter with `from`/`to` as UTC, the form `created_at` is stored in; `to` may not be before `from`. */
export function normalizedFilter(filter: FeedbackFilter): FeedbackFilter {
  return { ...filter, ...utcTimeRange(filter) };
}

function authorId(author: FeedbackAuthor): string {
  return author.kind === 'user' ? author.userId : author.anonymousUserId;
}
