import type { Generated } from 'kysely';

/** Row types of the chat widget's visitors (migration 0010); part of `Database` in schema.ts. */

/** The web-thread columns of a chat thread (migration 0010): all empty for an API user's thread. */
export interface ThreadWebColumns {
  /** The identified widget user the thread's visitor was linked to, if any. */
  widget_user_id: string | null;
  ticket_id: string | null;
  chat_history_parent_comment_id: string | null;
  /** 0 or 1. */
  connected_to_platform: Generated<number>;
}

/** A publishable widget key bound to one agent (migration 0010). */
export interface WidgetKeyRow {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  /** The public id inside the publishable key, by which it is looked up. */
  key_id: string;
  /** SHA-256 of the whole publishable key, hex. */
  key_hash: string;
  /** The HMAC secret for identity upgrades, sealed by the secret box. */
  identity_secret: string;
  /** JSON array of exact origins. */
  allowed_origins: string;
  created_by_user_id: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
}

/** A browser session minted by a widget key: the `anon_user_id` of its threads (migration 0010). */
export interface AnonymousUserRow {
  id: string;
  organization_id: string;
  widget_key_id: string;
  agent_id: string;
  widget_user_id: string | null;
  ip_address: string | null;
  /** Goes up on each renewal; tokens of an older generation are refused. */
  token_generation: Generated<number>;
  created_at: string;
  last_seen_at: string;
}

/** The contract's WidgetUser: a visitor identified by the host site (migration 0010). */
export interface WidgetUserRow {
  id: string;
  organization_id: string;
  external_user_id: string;
  user_name: string | null;
  user_email: string | null;
  verified_user_name: string | null;
  verified_user_email: string | null;
  ip_address: string | null;
  /** 0 or 1. */
  verified: Generated<number>;
  /** 0 or 1. */
  identified_by_tool: Generated<number>;
  created_at: string;
  updated_at: string;
}
