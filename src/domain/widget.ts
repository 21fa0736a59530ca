/** The chat widget's objects (docs/widget.md): what the stores return and the services use. */

/** A publishable widget key, as the admin API shows it: never its key or identity secret. */
export interface WidgetKey {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  /** The start of the publishable key (`pwk_<key id>_`), to recognise it. */
  prefix: string;
  allowed_origins: string[];
  created_at: string;
  revoked_at: string | null;
}

/** What authentication and session minting need of a widget key. */
export interface WidgetKeyCredential {
  id: string;
  organization_id: string;
  agent_id: string;
  key_hash: string;
  /** Sealed by the secret box; opened only to check a `user_hash`. */
  identity_secret: string;
  allowed_origins: string[];
  revoked_at: string | null;
}

export interface NewWidgetKey {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  key_id: string;
  key_hash: string;
  identity_secret: string;
  allowed_origins: string[];
  created_by_user_id: string | null;
  created_at: string;
}

/** A browser session minted by a widget key: its id is the tokens' `sub` and the threads' `anon_user_id`. */
export interface AnonymousUser {
  id: string;
  organization_id: string;
  widget_key_id: string;
  agent_id: string;
  widget_user_id: string | null;
  token_generation: number;
  /** When the widget key that minted it was revoked (null while it is active). */
  widget_key_revoked_at: string | null;
}

/** The contract's WidgetUser: a visitor the host site identified. */
export interface WidgetUser {
  id: string;
  user_name: string | null;
  user_email: string | null;
  verified_user_name: string | null;
  verified_user_email: string | null;
  ip_address: string | null;
  verified: boolean;
  identified_by_tool: boolean;
  created_at: string;
  updated_at: string;
}

/**
 * Which threads a widget visitor may see: those their anonymous user started, and — once the host
 * site identified them — those of every anonymous user linked to the same widget user (their
 * history on other devices).
 */
export interface ThreadVisitor {
  anonymousUserId: string;
  widgetUserId: string | null;
}
