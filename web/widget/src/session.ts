import { ApiError, apiError } from './errors.js';

/** What the widget keeps in `localStorage` per widget key: the visitor's session and thread. */
export interface SavedSession {
  token: string;
  anon_user_id: string;
  agent_id: string;
  expires_at: string;
  /** The conversation shown, to load again after a reload. */
  thread_id: string | null;
  /** The host user this session was identified as; another user needs another session. */
  user_id: string | null;
  /**
   * While a reply streams: the id of the first event of its stream (the visitor's message), so a
   * reload follows the reply from its start (`Last-Event-ID`). Null once the reply has ended.
   */
  resume_after?: string | null;
}

/** Renew this long before the token's expiry, so a request does not meet an expired token. */
const RENEW_EARLY_MS = 30_000;

/**
 * The visitor's session: minted once, renewed when (nearly) expired, kept in `localStorage` so
 * a reload — or another tab — goes on as the same visitor with the same thread. A session that
 * can no longer be renewed (past the renewal window, or renewed by another tab and lost) is
 * replaced by a new anonymous one.
 */
export class SessionKeeper {
  readonly #storageKey: string;
  #pending: Promise<SavedSession> | null = null;

  constructor(
    private readonly apiBase: string,
    private readonly widgetKey: string,
    private readonly storage: Storage | null,
  ) {
    this.#storageKey = `parley-widget:${widgetKey}`;
  }

  /** A usable session: the stored one, renewed first when it has (nearly) expired. */
  current(): Promise<SavedSession> {
    const saved = this.read();
    if (saved && Date.parse(saved.expires_at) - Date.now() > RENEW_EARLY_MS) return Promise.resolve(saved);
    return this.#once(() => (saved ? this.#renew(saved) : this.#mint(null)));
  }

  /** After a 401 for `token`: another tab may have renewed it; else renew (expired) or start over. */
  recover(token: string, code: string): Promise<SavedSession> {
    const saved = this.read();
    if (saved && saved.token !== token) return Promise.resolve(saved);
    return this.#once(() => (saved && code === 'widget_token_expired' ? this.#renew(saved) : this.#mint(null)));
  }

  /** Forgets the session: the next `current()` mints a new visitor (a host user signed out). */
  reset(): Promise<SavedSession> {
    this.#remove();
    return this.#once(() => this.#mint(null));
  }

  update(changes: Partial<Pick<SavedSession, 'thread_id' | 'user_id' | 'resume_after'>>): void {
    const saved = this.read();
    if (saved) this.#write({ ...saved, ...changes });
  }

  read(): SavedSession | null {
    try {
      const value = JSON.parse(this.storage?.getItem(this.#storageKey) ?? 'null') as SavedSession | null;
      return value && typeof value.token === 'string' && typeof value.agent_id === 'string' ? value : null;
    } catch {
      return null;
    }
  }

  /** One mint or renewal at a time: concurrent callers share it (a renewal retires the old token). */
  #once(work: () => Promise<SavedSession>): Promise<SavedSession> {
    this.#pending ??= work().finally(() => (this.#pending = null));
    return this.#pending;
  }

  async #renew(saved: SavedSession): Promise<SavedSession> {
    try {
      return await this.#mint(saved);
    } catch (error) {
      // Too old to renew, or renewed elsewhere and lost: a new visitor (the old threads stay stored).
      if (error instanceof ApiError && error.status === 401) return this.#mint(null);
      throw error;
    }
  }

  async #mint(previous: SavedSession | null): Promise<SavedSession> {
    const body = previous ? { widget_key: this.widgetKey, token: previous.token } : { widget_key: this.widgetKey };
    const response = await fetch(`${this.apiBase}/api/v1/widget/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await apiError(response);
    const minted = (await response.json()) as Omit<SavedSession, 'thread_id' | 'user_id' | 'resume_after'>;
    const session: SavedSession = {
      ...minted,
      thread_id: previous?.thread_id ?? null,
      user_id: previous?.user_id ?? null,
      resume_after: previous?.resume_after ?? null,
    };
    this.#write(session);
    return session;
  }

  #write(session: SavedSession): void {
    try {
      this.storage?.setItem(this.#storageKey, JSON.stringify(session));
    } catch {
      // storage full or refused: the session lasts as long as the page
    }
  }

  #remove(): void {
    try {
      this.storage?.removeItem(this.#storageKey);
    } catch {
      // nothing stored
    }
  }
}
