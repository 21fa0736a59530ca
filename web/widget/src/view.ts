import type { FeedbackType } from './api.js';
import type { WidgetOptions } from './options.js';
import { stylesheet } from './styles.js';

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-4 4V5a2 2 0 0 1 2-2z"/></svg>';

/** A thumb (up; the down one is the same turned over): SVG, since a host may have no emoji font. */
const THUMB_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M1 21h4V9H1v12zm22-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L14.2 1 7.6 7.6C7.2 8 7 8.4 7 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7c.1-.3.2-.5.2-.8v-2z"/></svg>';

export interface ViewHandlers {
  onOpen(): void;
  onSend(text: string): void;
  onStop(): void;
  onFeedback(messageId: string, type: FeedbackType): void;
}

/** An assistant bubble being written, then rated. */
export interface AnswerView {
  append(delta: string): void;
  finish(message: { id: string; content: string; feedback: FeedbackType }): void;
  fail(text: string): void;
  /** A remark under a finished answer (a stopped reply). */
  note(text: string): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * The launcher and the chat panel, in an open shadow root on a host element of their own. Text
 * from the server is set as `textContent`, never as markup.
 */
export class WidgetView {
  readonly host = el('div', { 'data-parley-widget': '' });
  readonly #launcher = el('button', { type: 'button', class: 'launcher', 'aria-label': 'Open chat' });
  readonly #panel = el('section', { class: 'panel', role: 'dialog', 'aria-modal': 'false' });
  readonly #status = el('div', { class: 'status', role: 'status' });
  /** The conversation: a list (its items need a list parent) inside the `log` region that scrolls. */
  readonly #log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  readonly #list = el('ol', { class: 'messages' });
  readonly #input = el('textarea', { id: 'parley-input', rows: '1', placeholder: 'Type a message…' });
  readonly #send = el('button', { type: 'submit', class: 'send' }, 'Send');
  readonly #stop = el('button', { type: 'button', class: 'stop', 'aria-label': 'Stop the reply' }, 'Stop');

  constructor(
    private readonly options: WidgetOptions,
    private readonly handlers: ViewHandlers,
  ) {
    const root = this.host.attachShadow({ mode: 'open' });
    adoptStyles(root, stylesheet(options.color));
    const container = el('div', { class: `root ${options.position}` });
    this.#launcher.innerHTML = CHAT_ICON;
    this.#launcher.setAttribute('aria-expanded', 'false');
    this.#launcher.setAttribute('aria-controls', 'parley-panel');
    this.#panel.id = 'parley-panel';
    this.#panel.setAttribute('aria-label', options.title);
    this.#panel.hidden = true;
    this.#status.hidden = true;
    this.#stop.hidden = true;
    this.#log.append(this.#list);
    this.#panel.append(this.#header(), this.#status, this.#log, this.#composer());
    container.append(this.#panel, this.#launcher);
    root.append(container);
    this.#launcher.addEventListener('click', () => (this.#panel.hidden ? this.open() : this.close()));
    this.#panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  open(): void {
    this.#panel.hidden = false;
    this.#launcher.setAttribute('aria-expanded', 'true');
    this.#launcher.setAttribute('aria-label', 'Close chat');
    this.handlers.onOpen();
    this.#input.focus();
  }

  close(): void {
    this.#panel.hidden = true;
    this.#launcher.setAttribute('aria-expanded', 'false');
    this.#launcher.setAttribute('aria-label', 'Open chat');
    this.#launcher.focus();
  }

  /**
   * A line above the conversation (a `status` live region), also the host's `data-state`;
   * `kind` 'refused' disables the composer for good.
   */
  status(text: string | null, kind: 'info' | 'reconnecting' | 'error' | 'refused' = 'info'): void {
    this.#status.hidden = text === null;
    this.#status.textContent = text ?? '';
    this.#status.className = `status ${kind}`;
    this.host.dataset.state = text === null ? 'ready' : kind;
    if (kind === 'refused') this.#input.disabled = this.#send.disabled = true;
  }

  /** Replaces the conversation: the greeting when it is empty. */
  showHistory(messages: { id: string; role: string; content: string; feedback: FeedbackType }[]): void {
    this.#list.replaceChildren();
    if (messages.length === 0) this.#bubble('assistant greeting', this.options.greeting);
    for (const message of messages) {
      if (message.role === 'user') this.addUser(message.content);
      else if (message.role === 'assistant') this.#answer().finish(message);
    }
  }

  addUser(text: string): void {
    this.#bubble('user', text, 'You');
  }

  startAnswer(): AnswerView {
    return this.#answer();
  }

  /** While a reply streams: Stop instead of Send. */
  busy(streaming: boolean): void {
    this.#stop.hidden = !streaming;
    this.#send.hidden = streaming;
    if (!streaming) this.#input.focus();
  }

  #answer(): AnswerView {
    const item = this.#bubble('assistant', '', this.options.title);
    const text = item.querySelector('.text') as HTMLElement;
    item.setAttribute('aria-busy', 'true');
    return {
      append: (delta) => {
        text.textContent += delta;
        this.#scroll();
      },
      finish: (message) => {
        item.removeAttribute('aria-busy');
        text.textContent = message.content;
        item.dataset.messageId = message.id;
        item.append(this.#feedback(message.id, message.feedback));
        this.#scroll();
      },
      note: (remark) => {
        item.classList.add('stopped');
        item.insertBefore(el('span', { class: 'note' }, remark), text.nextSibling);
      },
      fail: (reason) => {
        item.removeAttribute('aria-busy');
        item.classList.add('failed');
        text.textContent = text.textContent ? `${text.textContent}\n(${reason})` : reason;
      },
    };
  }

  #feedback(messageId: string, current: FeedbackType): HTMLElement {
    const group = el('div', { class: 'feedback', role: 'group', 'aria-label': 'Rate this answer' });
    const buttons: [HTMLButtonElement, Exclude<FeedbackType, null>][] = [
      [el('button', { type: 'button', class: 'up', 'aria-label': 'Helpful answer' }), 'positive'],
      [el('button', { type: 'button', class: 'down', 'aria-label': 'Unhelpful answer' }), 'negative'],
    ];
    for (const [button] of buttons) button.innerHTML = THUMB_ICON;
    const show = (type: FeedbackType) => {
      for (const [button, value] of buttons) button.setAttribute('aria-pressed', String(value === type));
    };
    show(current);
    for (const [button, value] of buttons) {
      button.addEventListener('click', () => {
        // Pressing the chosen rating again withdraws it.
        const next = button.getAttribute('aria-pressed') === 'true' ? null : value;
        show(next);
        this.handlers.onFeedback(messageId, next);
      });
      group.append(button);
    }
    return group;
  }

  #bubble(kind: string, text: string, author?: string): HTMLLIElement {
    const item = el('li', { class: `message ${kind}` });
    if (author) item.append(el('span', { class: 'sr-only' }, `${author}: `));
    item.append(el('div', { class: 'text' }, text));
    this.#list.append(item);
    this.#scroll();
    return item;
  }

  #scroll(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  #header(): HTMLElement {
    const header = el('div', { class: 'header' });
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'Close chat' }, '×');
    close.addEventListener('click', () => this.close());
    header.append(el('h2', {}, this.options.title), close);
    return header;
  }

  #composer(): HTMLFormElement {
    const form = el('form', { class: 'composer' });
    const label = el('label', { for: 'parley-input', class: 'sr-only' }, 'Message');
    const submit = () => {
      const text = this.#input.value.trim();
      if (text === '' || !this.#stop.hidden || this.#input.disabled) return;
      this.#input.value = '';
      this.handlers.onSend(text);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit();
    });
    // Enter sends, Shift+Enter starts a new line.
    this.#input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    this.#stop.addEventListener('click', () => this.handlers.onStop());
    form.append(label, this.#input, this.#send, this.#stop);
    return form;
  }
}

/** A constructed stylesheet where the browser has them (a host's CSP `style-src` does not apply), else a `<style>`. */
function adoptStyles(root: ShadowRoot, css: string): void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    return;
  }
  root.append(el('style', {}, css));
}
