import { Type, type TSchema } from '@sinclair/typebox';
import { CursorQuery, LIST_LIMIT, MAX_LIST_OFFSET, Nullable, PaginationQuery } from '../../http/schemas.js';
import { FEEDBACK_FILTERS, TICKET_FILTERS, WEB_THREAD_SORTS } from '../../domain/web-threads.js';
import { SearchText } from '../search/search.schemas.js';
import { ChatThread } from '../threads/threads.schemas.js';
import { WidgetUser } from '../widget/widget.schemas.js';

/** A query parameter the contract does not state: the OpenAPI document marks it on the parameter. */
function extension<T extends TSchema>(schema: T): T {
  return { ...schema, 'x-parley-extension': true };
}

function StringEnum<const Values extends readonly string[]>(values: Values, description: string) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], description });
}

export const EnhancedWebThread = Type.Object(
  {
    ...ChatThread.properties,
    widget_user: Nullable(Type.Ref(WidgetUser)),
    message_count: Type.Integer({ minimum: 0, default: 0, description: 'How many messages the thread holds.' }),
    ticket_id: Nullable(Type.String()),
    chat_history_parent_comment_id: Nullable(Type.String()),
    connected_to_platform: Type.Boolean(),
  },
  {
    $id: 'EnhancedWebThread',
    additionalProperties: false,
    description: 'A web chat thread (a widget visitor’s) with its widget user and ticket data.',
  },
);

const IncludeMessages = Type.Boolean({
  default: true,
  description: 'Embed each thread’s messages (false leaves `messages` empty).',
});

/** The pages of a list the contract gives no parameters: limit, offset and cursors, all extensions. */
const ListPage = {
  limit: extension(PaginationQuery.limit),
  offset: extension(PaginationQuery.offset),
  before: extension(CursorQuery.before),
  after: extension(CursorQuery.after),
  include_messages: extension(IncludeMessages),
};

export const WebThreadListQuery = Type.Object(ListPage);

export const WebThreadSearchQuery = Type.Object({
  q: Type.Optional(
    extension({
      ...SearchText,
      description: `${SearchText.description} Keeps the threads with a matching message; the order stays by date (\`sort\`).`,
    }),
  ),
  feedback: Type.Optional(
    extension(
      StringEnum(
        FEEDBACK_FILTERS,
        'Only threads with an answer rated `positive`, `negative`, or (`any`) rated at all.',
      ),
    ),
  ),
  ticket: Type.Optional(
    extension(
      StringEnum(TICKET_FILTERS, '`converted`: only threads with a `ticket_id`; `chat_only`: only threads without.'),
    ),
  ),
  sort: extension({
    ...StringEnum(WEB_THREAD_SORTS, 'By `created_at` (then id): `newest` or `oldest` first, with or without `q`.'),
    default: 'newest',
  }),
  from: Type.Optional(
    extension(Type.String({ format: 'date-time', description: 'Only threads created at or after this time.' })),
  ),
  to: Type.Optional(
    extension(
      Type.String({
        format: 'date-time',
        description: 'Only threads created at or before this time; not before `from`.',
      }),
    ),
  ),
  ...ListPage,
  limit: extension(
    Type.Integer({ minimum: LIST_LIMIT.min, maximum: LIST_LIMIT.max, default: 20, description: 'How many threads.' }),
  ),
  offset: extension(
    Type.Integer({ minimum: 0, maximum: MAX_LIST_OFFSET, default: 0, description: 'How many threads to skip.' }),
  ),
});
