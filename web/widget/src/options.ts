/** What the host page says in the script tag's attributes (docs/widget.md, "Embedding"). */
export interface WidgetOptions {
  /** The Parley server: the origin the script was loaded from, or `data-api-base`. */
  apiBase: string;
  widgetKey: string;
  /** The accent colour (launcher, the visitor's bubbles, buttons): any CSS colour. */
  color: string;
  position: 'right' | 'left';
  title: string;
  /** Shown as the first line of an empty conversation; not stored. */
  greeting: string;
  /** The host site's user, proven by `user_hash` (its server's HMAC of `user_id`). */
  user: { id: string; hash: string; name: string | null; email: string | null } | null;
  /** `data-open="true"`: the panel opens when the page loads. */
  open: boolean;
}

const DEFAULT_COLOR = '#2563eb';

export function readOptions(script: HTMLScriptElement): WidgetOptions | null {
  const data = script.dataset;
  const widgetKey = data.widgetKey?.trim();
  if (!widgetKey) return null;
  const userId = data.userId?.trim();
  const userHash = data.userHash?.trim();
  return {
    apiBase: (data.apiBase?.trim() || new URL(script.src, document.baseURI).origin).replace(/\/+$/, ''),
    widgetKey,
    color: safeColor(data.color) ?? DEFAULT_COLOR,
    position: data.position === 'left' ? 'left' : 'right',
    title: data.title?.trim() || 'Chat with us',
    greeting: data.greeting?.trim() || 'Hello! How can we help?',
    user:
      userId && userHash
        ? { id: userId, hash: userHash, name: data.userName?.trim() || null, email: data.userEmail?.trim() || null }
        : null,
    open: data.open === 'true',
  };
}

/** A colour the browser understands, or null: the value goes into a stylesheet, so nothing else may. */
function safeColor(value: string | undefined): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  return CSS.supports('color', trimmed) && !/[;{}<>]/.test(trimmed) ? trimmed : null;
}
