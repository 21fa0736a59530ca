import { AppError, validationError } from '../../errors.js';
import type { EventId } from '../../runtime/event-id.js';
import type { FollowConsumer } from '../../runtime/event-log.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import type { StartedRun } from '../../runtime/run-agent.js';
import type { IdempotencyClaim } from '../../storage/store.js';
import type { MessagesService } from '../messages/messages.service.js';
import { MAX_MESSAGE_CHARACTERS } from '../messages/messages.schemas.js';
import type { AgUiMessage, RunAgentInput } from './ag-ui.schemas.js';

type AgUiMessageInput = typeof AgUiMessage.static;

/** What a run for an AG-UI client needs beyond a Parley message: the thread comes in the body. */
export interface AgUiRunRequest {
  organizationId: string;
  agentId: string;
  input: typeof RunAgentInput.static;
  idempotency?: IdempotencyClaim | undefined;
}

/**
 * AG-UI's `RunAgentInput` as a Parley turn. The server keeps the thread's history, so of the
 * client's `messages` only the last is read: the user's new message, which starts a run exactly as
 * `POST …/messages/stream` does (404 for a thread not of this agent or organisation, 409
 * `thread_busy` while a run is active). A bad input is refused before anything is stored.
 */
export class AgUiService {
  constructor(private readonly messages: MessagesService) {}

  async start(request: AgUiRunRequest): Promise<StartedRun> {
    const content = newTurnOf(request.input.messages);
    const added = await this.messages.add({
      organizationId: request.organizationId,
      agentId: request.agentId,
      threadId: threadIdOf(request.input),
      body: { role: 'user', content },
      idempotency: request.idempotency,
    });
    if (added.kind !== 'run') throw new AppError('internal_error', { message: 'a user message starts a run' });
    return added.run;
  }

  /** The thread's events after `after` (see `MessagesService.follow`). */
  follow(input: {
    organizationId: string;
    agentId: string;
    input: typeof RunAgentInput.static;
    after: EventId;
    signal: AbortSignal;
    consumer: FollowConsumer;
  }): AsyncGenerator<LiveEvent> {
    return this.messages.follow({ ...input, threadId: threadIdOf(input.input) });
  }
}

/** Thread ids are UUIDs, accepted in any case (like those in paths) and stored in lower case. */
function threadIdOf(input: typeof RunAgentInput.static): string {
  return input.threadId.toLowerCase();
}

/** The text of the new turn: the last message, which must be the user's, as text or text parts. */
export function newTurnOf(messages: AgUiMessageInput[]): string {
  const last = messages.length - 1;
  const message = messages[last];
  if (message?.role !== 'user') {
    throw validationError(
      ['body', 'messages', last, 'role'],
      'The last message must be the user’s new turn (role user): the server keeps the thread’s history and answers that message',
    );
  }
  const text = textOf(message.content, last);
  if (text.length === 0)
    throw validationError(
      ['body', 'messages', last, 'content'],
      'String should have at least 1 character',
      'string_too_short',
    );
  if (text.length > MAX_MESSAGE_CHARACTERS)
    throw validationError(
      ['body', 'messages', last, 'content'],
      `String should have at most ${MAX_MESSAGE_CHARACTERS} characters`,
      'string_too_long',
    );
  return text;
}

/** A string, or the `text` parts of a list joined by line breaks; other parts (images, files) are refused. */
function textOf(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw validationError(
      ['body', 'messages', index, 'content'],
      'Input should be a valid string or a list of text parts',
      'string_type',
    );
  return content
    .map((part: unknown, position) => {
      const { type, text } = (part ?? {}) as { type?: unknown; text?: unknown };
      if (type !== 'text' || typeof text !== 'string')
        throw validationError(
          ['body', 'messages', index, 'content', position],
          'Only text parts ({"type": "text", "text": …}) are supported',
        );
      return text;
    })
    .join('\n');
}
