import { WidgetApi, type ChatMessage, type FeedbackType, type StreamEvent } from './api.js';
import { ApiError } from './errors.js';
import { readOptions, type WidgetOptions } from './options.js';
import { ConnectionLost, resumableRun, type StreamFrame } from './resume.js';
import { SessionKeeper } from './session.js';
import { WidgetView, type AnswerView } from './view.js';

/**
 * The embeddable chat widget (docs/widget.md): `<script src="…/widget.js" data-widget-key="pwk_…">`.
 * Nothing happens on the network until the visitor opens the panel (or `data-open="true"`).
 */
class ChatWidget {
  readonly #api: WidgetApi;
  readonly #view: WidgetView;
  #started: Promise<void> | null = null;
  #threadId: string | null = null;
  #streaming: AbortController | null = null;
  /** The reply being streamed, once its `run-start` named it: what Stop cancels. */
  #run: { threadId: string; runId: string } | null = null;

  constructor(private readonly options: WidgetOptions) {
    this.#api = new WidgetApi(options.apiBase, new SessionKeeper(options.apiBase, options.widgetKey, storage()));
    this.#view = new WidgetView(options, {
      onOpen: () => void this.#start(),
      onSend: (text) => void this.#send(text),
      onStop: () => void this.#stop(),
      onFeedback: (messageId, type) => void this.#rate(messageId, type),
    });
    document.body.append(this.#view.host);
    if (options.open) this.#view.open();
  }

  /** Once: the session (and the host user's identity), then the conversation kept from before. */
  #start(): Promise<void> {
    this.#started ??= this.#load().catch((error: unknown) => {
      this.#started = null; // a later open tries again, unless the site is refused
      this.#report(error);
    });
    return this.#started;
  }

  async #load(): Promise<void> {
    this.#view.status('Connecting…');
    await this.#identify();
    const sessions = this.#api.sessions;
    let threadId = sessions.read()?.thread_id ?? null;
    threadId ??= await this.#api.latestThreadId();
    let history: ChatMessage[] = [];
    if (threadId !== null) {
      try {
        history = await this.#api.messages(threadId);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        threadId = null; // not this visitor's any more (a new session): start a new conversation
      }
    }
    this.#threadId = threadId;
    sessions.update({ thread_id: threadId });
    const running = runningReply(history.at(-1));
    if (running !== null) history.pop(); // stored empty until it ends: it is followed instead
    this.#view.showHistory(history.map((message) => ({ ...message, feedback: feedbackOf(message) })));
    this.#view.status(null);
    // A reply still being written (a reload mid-reply, another tab or device): follow it, from the
    // resume point this page kept, else from the start of the thread's log, which replays it whole.
    const from = sessions.read()?.resume_after ?? '0';
    if (running !== null) void this.#reply(this.#view.startAnswer(), { from, runId: running });
    else sessions.update({ resume_after: null });
  }

  /** The host user, proven by `user_hash`; a session of another user (or of none) is replaced. */
  async #identify(): Promise<void> {
    const sessions = this.#api.sessions;
    const user = this.options.user;
    const session = await sessions.current();
    if (session.user_id === (user?.id ?? null)) return;
    if (session.user_id !== null) await sessions.reset(); // the host user changed or signed out
    if (user === null) return;
    try {
      await this.#api.identify(user);
      sessions.update({ user_id: user.id });
    } catch (error) {
      // An invalid hash leaves the visitor anonymous; the host site has to fix its server.
      if (error instanceof ApiError && error.code === 'invalid_user_hash')
        console.warn('Parley widget:', error.message);
      else throw error;
    }
  }

  async #send(text: string): Promise<void> {
    await this.#start();
    if (this.#view.host.dataset.state === 'refused') return;
    this.#view.addUser(text);
    await this.#reply(this.#view.startAnswer(), { text });
  }

  /**
   * Streams a reply into `answer`: the reply to `text`, posted now, or (after a reload) the reply
   * running in the thread, followed `from` the stored resume point. A dropped stream is resumed
   * (resume.ts); while it is, the status line says so.
   */
  async #reply(answer: AnswerView, start: { text: string } | { from: string; runId: string }): Promise<void> {
    const controller = new AbortController();
    this.#streaming = controller;
    this.#view.busy(true);
    let ended = false;
    try {
      const threadId = 'text' in start ? await this.#thread(start.text) : this.#threadId!;
      const events = resumableRun<StreamEvent>({
        open: (lastId, signal) =>
          lastId !== null
            ? this.#api.follow(threadId, lastId, signal)
            : this.#remembering(this.#api.send(threadId, (start as { text: string }).text, signal)),
        from: 'from' in start ? start.from : null,
        runId: 'runId' in start ? start.runId : null,
        signal: controller.signal,
        onReconnecting: () => this.#view.status('Reconnecting…', 'reconnecting'),
        onResumed: () => this.#view.status(null),
      });
      for await (const event of events) this.#show(answer, threadId, event);
      ended = true;
    } catch (error) {
      ended = controller.signal.aborted || !(error instanceof ConnectionLost);
      if (controller.signal.aborted) answer.fail('Stopped.');
      else if (error instanceof ConnectionLost) {
        answer.fail('Connection lost.');
        this.#view.status(error.message, 'error');
      } else answer.fail(error instanceof Error ? error.message : String(error));
    } finally {
      // A lost reply keeps its resume point: a reload follows it from there.
      if (ended) this.#api.sessions.update({ resume_after: null });
      if (this.#view.host.dataset.state === 'reconnecting') this.#view.status(null);
      this.#streaming = null;
      this.#run = null;
      this.#view.busy(false);
    }
  }

  /** The POST's stream, its first event id kept as the reply's resume point. */
  async *#remembering(frames: AsyncIterable<StreamFrame<StreamEvent>>): AsyncGenerator<StreamFrame<StreamEvent>> {
    let remembered = false;
    for await (const frame of frames) {
      if (!remembered && frame.id !== '') {
        this.#api.sessions.update({ resume_after: frame.id });
        remembered = true;
      }
      yield frame;
    }
  }

  #show(answer: AnswerView, threadId: string, event: StreamEvent): void {
    if (event.type === 'run-start' && event.run_id) this.#run = { threadId, runId: event.run_id };
    if (event.type === 'text-delta' && event.delta) answer.append(event.delta);
    if (event.type === 'run-end' && event.message) {
      answer.finish({ ...event.message, feedback: null });
      if (event.status === 'cancelled') answer.note('Stopped.');
    }
    if (event.type === 'run-error') answer.fail(event.error?.message ?? 'The answer failed.');
  }

  /**
   * Stop: the server cancels the run, and its stream ends with the reply as far as it got. Before
   * the run is named, or when the cancel fails, the widget just stops reading (the server finishes it).
   */
  async #stop(): Promise<void> {
    const run = this.#run;
    const streaming = this.#streaming;
    if (run === null) return streaming?.abort();
    try {
      await this.#api.cancel(run.threadId, run.runId);
    } catch (error) {
      // 409 run_not_active: it ended meanwhile, and its run-end is on the way.
      if (!(error instanceof ApiError && error.code === 'run_not_active')) streaming?.abort();
    }
  }

  async #thread(firstMessage: string): Promise<string> {
    if (this.#threadId !== null) return this.#threadId;
    const thread = await this.#api.createThread(firstMessage.slice(0, 80));
    this.#threadId = thread.id;
    this.#api.sessions.update({ thread_id: thread.id });
    return thread.id;
  }

  async #rate(messageId: string, type: FeedbackType): Promise<void> {
    try {
      await this.#api.feedback(messageId, type);
      this.#view.status(null);
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    // A page on an origin the key does not allow: the browser refuses the preflight (a TypeError,
    // the answer unreadable), or the server answers 403 widget_origin_not_allowed.
    if (error instanceof TypeError || (error instanceof ApiError && error.code === 'widget_origin_not_allowed')) {
      this.#view.status('This chat is not available on this site: its origin is not allowed.', 'refused');
    } else if (error instanceof ApiError && error.code === 'invalid_widget_key') {
      this.#view.status('This chat is not available: its widget key is not valid.', 'refused');
    } else {
      this.#view.status(error instanceof Error ? error.message : String(error), 'error');
    }
  }
}

/** The run of a reply still being written (stored empty with `status: 'in_progress'`), or null. */
function runningReply(message: ChatMessage | undefined): string | null {
  const metadata = message?.role === 'assistant' ? message.metadata : null;
  return metadata?.status === 'in_progress' && typeof metadata.run_id === 'string' ? metadata.run_id : null;
}

function feedbackOf(message: ChatMessage): FeedbackType {
  const type = message.feedback?.feedback_type;
  return type === 'positive' || type === 'negative' ? type : null;
}

/** localStorage, or a page-long substitute where it is refused (sandboxed frames, some private modes). */
function storage(): Storage {
  try {
    const probe = '__parley_probe__';
    window.localStorage.setItem(probe, probe);
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    const values = new Map<string, string>();
    return {
      get length() {
        return values.size;
      },
      clear: () => values.clear(),
      getItem: (key) => values.get(key) ?? null,
      key: (index) => [...values.keys()][index] ?? null,
      removeItem: (key) => void values.delete(key),
      setItem: (key, value) => void values.set(key, value),
    };
  }
}

function mount(): void {
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement)) return;
  const options = readOptions(script);
  if (options === null) {
    console.error('Parley widget: the script tag needs data-widget-key.');
    return;
  }
  const start = () => new ChatWidget(options);
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

mount();
