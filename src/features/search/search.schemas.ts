import { Type } from '@sinclair/typebox';
import { FreeObject, LIST_LIMIT, MAX_LIST_OFFSET, Nullable, Uuid } from '../../http/schemas.js';

/** The longest `q` a search takes: a question or a pasted sentence, not a document. */
export const MAX_SEARCH_QUERY_CHARACTERS = 500;

const Role = Type.String({ pattern: '^(user|assistant|system|tool)$' });

export const SearchText = Type.String({
  minLength: 1,
  maxLength: MAX_SEARCH_QUERY_CHARACTERS,
  description:
    'Natural-language text: its words are searched (stemmed, any of them), punctuation and full-text syntax are ignored.',
});

const SearchPage = {
  limit: Type.Integer({
    minimum: LIST_LIMIT.min,
    maximum: LIST_LIMIT.max,
    default: 20,
    description: 'How many results.',
  }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_LIST_OFFSET, default: 0, description: 'How many results to skip.' }),
};

export const ThreadSearchQuery = Type.Object({ q: SearchText, ...SearchPage });

export const MessageSearchQuery = Type.Object({
  q: SearchText,
  agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only messages of this agent’s threads.' })),
  role: Type.Optional(Type.String({ ...Role, description: 'Only messages of this role.' })),
  ...SearchPage,
});

const Rank = Type.Number({
  minimum: 0,
  maximum: 1,
  description: 'Relevance mapped to 0..1, higher is better; comparable within one server’s answers only.',
});

const Snippet = Type.String({
  description:
    'HTML: about 200 characters of the message around its first match, every other character escaped, matched words in `<mark>`…`</mark>`, `…` where cut.',
});

export const ThreadSearchMatch = Type.Object(
  { message_id: Uuid, role: Role, snippet: Snippet, created_at: Type.String({ format: 'date-time' }), rank: Rank },
  { $id: 'ThreadSearchMatch', additionalProperties: false },
);

export const ChatThreadSummary = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    user_id: Nullable(Uuid),
    anon_user_id: Nullable(Uuid),
    organization_id: Uuid,
    title: Nullable(Type.String()),
    metadata: FreeObject,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ChatThreadSummary', additionalProperties: false, description: 'A chat thread without its messages.' },
);

export const ThreadSearchResult = Type.Object(
  {
    thread: Type.Ref(ChatThreadSummary),
    rank: Type.Number({ ...Rank, description: 'The rank of the thread’s best matching message.' }),
    matches: Type.Array(Type.Ref(ThreadSearchMatch), {
      description: 'The thread’s best matching messages (at most 3), best first.',
    }),
  },
  { $id: 'ThreadSearchResult', additionalProperties: false },
);

export const MessageSearchResult = Type.Object(
  {
    message_id: Uuid,
    thread_id: Uuid,
    agent_id: Uuid,
    role: Role,
    snippet: Snippet,
    created_at: Type.String({ format: 'date-time' }),
    rank: Rank,
  },
  { $id: 'MessageSearchResult', additionalProperties: false },
);
