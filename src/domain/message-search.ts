import type { ChatThread } from './models.js';

/** A message that matched a search, before its snippet is made (docs/search.md). */
export interface MessageMatch {
  message_id: string;
  thread_id: string;
  role: string;
  created_at: string;
  /** 0..1, higher is better: relevance / (1 + relevance). Comparable within one dialect only. */
  rank: number;
}

/** A match of the organisation-wide search, with its agent. */
export interface MessageHit extends MessageMatch {
  agent_id: string;
  snippet: string;
}

/** A thread that matched, with its best matching messages, best first. */
export interface ThreadMatch {
  thread_id: string;
  /** Its best message's rank. */
  rank: number;
  matches: MessageMatch[];
}

export interface ThreadHit {
  thread: Omit<ChatThread, 'messages'>;
  rank: number;
  matches: (Omit<MessageMatch, 'thread_id'> & { snippet: string })[];
}
