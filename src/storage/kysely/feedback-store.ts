import type { ExpressionBuilder } from 'kysely';
import {
  authorIdOf,
  type FeedbackAuthor,
  type FeedbackDetails,
  type FeedbackType,
  type StoredFlowFeedback,
  type StoredMessageFeedback,
} from '../../domain/feedback.js';
import type { Executor } from './executor.js';
import type { Database, FeedbackRow, FlowFeedbackRow } from './schema.js';

/** The one mapper of a message rating's row. */
export function feedbackRowToStoredFeedback(row: FeedbackRow): StoredMessageFeedback {
  return {
    id: row.id,
    human_message_id: row.human_message_id,
    ai_message_id: row.ai_message_id,
    flow_execution_id: row.flow_execution_id,
    user_id: row.user_id,
    organization_id: row.organization_id,
    feedback_type: row.feedback_type,
    issue_type: row.issue_type,
    comment: row.comment,
    created_at: row.created_at,
    updated_at: row.updated_at,
    thread_id: row.thread_id,
    anon_user_id: row.anon_user_id,
    source: row.source,
    context_id: row.context_id,
  };
}

export function flowFeedbackRowToStoredFlowFeedback(row: FlowFeedbackRow): StoredFlowFeedback {
  return { ...row, feedback_type: row.feedback_type as FeedbackType | null };
}

/** A rating as a request gives it, with the id and time it gets if it is the author's first. */
interface RatingInput {
  organizationId: string;
  author: FeedbackAuthor;
  id: string;
  now: string;
  source: string;
  details: FeedbackDetails;
}

type AnswerScope = ExpressionBuilder<
  Database & { answer: Database['chat_messages']; thread: Database['chat_threads'] },
  'answer' | 'thread'
>;

/**
 * Where a visitor may rate: threads of their own (`anon_user_id`) with their one agent. A user
 * of the organisation may rate any of its threads.
 */
function authorMayRate(eb: AnswerScope, author: FeedbackAuthor) {
  return author.kind === 'user'
    ? eb.lit(true)
    : eb.and([eb('thread.anon_user_id', '=', author.anonymousUserId), eb('thread.agent_id', '=', author.agentId)]);
}

/** The columns a rating of an answer inserts, in the order `answerRating` selects them. */
const RATING_COLUMNS = [
  'id',
  'organization_id',
  'thread_id',
  'user_id',
  'anon_user_id',
  'human_message_id',
  'ai_message_id',
  'flow_execution_id',
  'feedback_type',
  'issue_type',
  'comment',
  'source',
  'context_id',
  'created_at',
  'updated_at',
] as const;

/**
 * The row a rating of an answer inserts, selected from the answer itself: there is one only when
 * the message is an assistant message of a thread of the organisation that the author may rate.
 */
function answerRating(db: Executor, input: RatingInput & { messageId: string }) {
  const { organizationId, author, details } = input;
  return db
    .selectFrom('chat_messages as answer')
    .innerJoin('chat_threads as thread', 'thread.id', 'answer.thread_id')
    .select((select) => [
      select.val(input.id).as('id'),
      'answer.organization_id',
      'answer.thread_id',
      select.val(authorIdOf(author)).as('user_id'),
      select.val(author.kind === 'anonymous' ? author.anonymousUserId : null).as('anon_user_id'),
      // The question this answers: the thread's last user message before it.
      select
        .selectFrom('chat_messages as question')
        .select('question.id')
        .where('question.organization_id', '=', organizationId)
        .whereRef('question.thread_id', '=', 'answer.thread_id')
        .where('question.role', '=', 'user')
        .where((before) =>
          before.or([
            before('question.created_at', '<', before.ref('answer.created_at')),
            before.and([
              before('question.created_at', '=', before.ref('answer.created_at')),
              before('question.id', '<', before.ref('answer.id')),
            ]),
          ]),
        )
        .orderBy('question.created_at', 'desc')
        .orderBy('question.id', 'desc')
        .limit(1)
        .as('human_message_id'),
      'answer.id as ai_message_id',
      // The run that wrote it (its execution names the reply it wrote).
      select
        .selectFrom('flow_executions as run')
        .select('run.id')
        .where('run.organization_id', '=', organizationId)
        .whereRef('run.thread_id', '=', 'answer.thread_id')
        .whereRef('run.message_id', '=', 'answer.id')
        .limit(1)
        .as('flow_execution_id'),
      select.val(details.feedback_type).as('feedback_type'),
      select.val(details.issue_type).as('issue_type'),
      select.val(details.comment).as('comment'),
      select.val(input.source).as('source'),
      select.val(details.context_id).as('context_id'),
      select.val(input.now).as('created_at'),
      select.val(input.now).as('updated_at'),
    ])
    .where('answer.id', '=', input.messageId)
    .where('answer.organization_id', '=', organizationId)
    .where('answer.role', '=', 'assistant')
    .where('thread.organization_id', '=', organizationId)
    .where((scope) => authorMayRate(scope, author));
}

export class FeedbackWriter {
  constructor(private readonly db: Executor) {}

  /**
   * The message, if it is one of the organisation's that the author may see: how a rating that
   * stored nothing tells a question (422) from a message that is not there for them (404).
   */
  async locateMessage(input: {
    organizationId: string;
    author: FeedbackAuthor;
    messageId: string;
  }): Promise<{ role: string } | null> {
    const { author } = input;
    let query = this.db
      .selectFrom('chat_messages as message')
      .innerJoin('chat_threads as thread', 'thread.id', 'message.thread_id')
      .select('message.role')
      .where('message.id', '=', input.messageId)
      .where('message.organization_id', '=', input.organizationId)
      .where('thread.organization_id', '=', input.organizationId);
    if (author.kind === 'anonymous') {
      query = query
        .where('thread.anon_user_id', '=', author.anonymousUserId)
        .where('thread.agent_id', '=', author.agentId);
    }
    return (await query.executeTakeFirst()) ?? null;
  }

  async runExists(input: { organizationId: string; runId: string }): Promise<boolean> {
    const row = await this.db
      .selectFrom('flow_executions')
      .select('id')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.runId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The author's rating of an assistant message, in one statement: inserted only if the message
   * is an answer of a thread of the organisation that the author may rate (the tenant check is
   * inside the statement, as in INSERT_THREAD), with the question before it and the run that
   * wrote it; or, when the author rated it before, that rating replaced (its id and `created_at`
   * kept). Null when there is no such answer.
   */
  async rateMessage(input: RatingInput & { messageId: string }): Promise<StoredMessageFeedback | null> {
    const row = await this.db
      .insertInto('message_feedback')
      .columns(RATING_COLUMNS)
      .expression(answerRating(this.db, input))
      .onConflict((conflict) =>
        conflict.columns(['ai_message_id', 'user_id']).doUpdateSet((update) => ({
          feedback_type: update.ref('excluded.feedback_type'),
          issue_type: update.ref('excluded.issue_type'),
          comment: update.ref('excluded.comment'),
          source: update.ref('excluded.source'),
          context_id: update.ref('excluded.context_id'),
          updated_at: update.ref('excluded.updated_at'),
        })),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? feedbackRowToStoredFeedback(row) : null;
  }

  /** Removes the author's rating of the message; the rating removed, or null when there was none. */
  async revokeMessage(input: {
    organizationId: string;
    author: FeedbackAuthor;
    messageId: string;
  }): Promise<StoredMessageFeedback | null> {
    const row = await this.db
      .deleteFrom('message_feedback')
      .where('organization_id', '=', input.organizationId)
      .where('ai_message_id', '=', input.messageId)
      .where('user_id', '=', authorIdOf(input.author))
      .returningAll()
      .executeTakeFirst();
    return row ? feedbackRowToStoredFeedback(row) : null;
  }

  /**
   * The author's rating of a run, in one statement, inserted only if the run is the
   * organisation's, or replacing the author's earlier rating of it. Null when there is no such run.
   */
  async rateRun(input: RatingInput & { runId: string }): Promise<StoredFlowFeedback | null> {
    const { author, details } = input;
    const row = await this.db
      .insertInto('flow_feedback')
      .columns([
        'id',
        'organization_id',
        'flow_execution_id',
        'user_id',
        'anon_user_id',
        'source',
        'context_id',
        'feedback_type',
        'issue_type',
        'comment',
        'created_at',
        'updated_at',
      ])
      .expression((eb) =>
        eb
          .selectFrom('flow_executions as run')
          .select((select) => [
            select.val(input.id).as('id'),
            'run.organization_id',
            'run.id as flow_execution_id',
            select.val(authorIdOf(author)).as('user_id'),
            select.val(author.kind === 'anonymous' ? author.anonymousUserId : null).as('anon_user_id'),
            select.val(input.source).as('source'),
            select.val(details.context_id).as('context_id'),
            select.val(details.feedback_type).as('feedback_type'),
            select.val(details.issue_type).as('issue_type'),
            select.val(details.comment).as('comment'),
            select.val(input.now).as('created_at'),
            select.val(input.now).as('updated_at'),
          ])
          .where('run.id', '=', input.runId)
          .where('run.organization_id', '=', input.organizationId),
      )
      .onConflict((conflict) =>
        conflict.columns(['flow_execution_id', 'user_id']).doUpdateSet((update) => ({
          source: update.ref('excluded.source'),
          context_id: update.ref('excluded.context_id'),
          feedback_type: update.ref('excluded.feedback_type'),
          issue_type: update.ref('excluded.issue_type'),
          comment: update.ref('excluded.comment'),
          updated_at: update.ref('excluded.updated_at'),
        })),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? flowFeedbackRowToStoredFlowFeedback(row) : null;
  }

  async revokeRun(input: {
    organizationId: string;
    author: FeedbackAuthor;
    runId: string;
  }): Promise<StoredFlowFeedback | null> {
    const row = await this.db
      .deleteFrom('flow_feedback')
      .where('organization_id', '=', input.organizationId)
      .where('flow_execution_id', '=', input.runId)
      .where('user_id', '=', authorIdOf(input.author))
      .returningAll()
      .executeTakeFirst();
    return row ? flowFeedbackRowToStoredFlowFeedback(row) : null;
  }
}
