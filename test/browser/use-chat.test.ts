import type { Browser, BrowserContext, Page, Response as PageResponse } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { pollUntil, storedMessages, type ThreadRef } from '../helpers/sse-client.js';
import { collectPageErrors, launchChromium, servePage, type PageSite } from './browser-harness.js';

/**
 * The AI SDK's `useChat` as shipped, in a real browser (issue 8, item 2): the docs' example
 * component (docs/examples/use-chat.tsx), built with Vite and served from another origin, talks
 * to Parley through `DefaultChatTransport` unchanged, in Debian's Chromium. Each check compares
 * what the page shows with what the server stored, and no page may log an error.
 */

/** Slow enough that a reply is seen growing, and that the page can stop or reload mid-reply. */
const WORDS_PER_SECOND = 20;

/**
 * Installed in every page before its scripts run: `chatProbe.read()` reads the chat from the
 * DOM, and `chatProbe.seen` records every status the page showed and every text of every
 * assistant message, as the DOM changed (a MutationObserver, so no intermediate state is missed
 * between two polls).
 */
const PAGE_PROBE = `(() => {
  const read = () => ({
    status: document.querySelector('.status')?.dataset.status ?? null,
    messages: [...document.querySelectorAll('.message')].map((element) => ({
      id: element.dataset.messageId,
      role: element.dataset.role,
      texts: [...element.querySelectorAll('.part-text')].map((part) => part.textContent),
      tools: [...element.querySelectorAll('.part-tool')].map((part) => ({
        tool: part.dataset.tool,
        state: part.dataset.state,
        input: part.querySelector('.tool-input')?.textContent ?? null,
        output: part.querySelector('.tool-output')?.textContent ?? null,
      })),
    })),
  });
  const seen = { statuses: [], replies: [] };
  const record = () => {
    const { status, messages } = read();
    if (status !== null && seen.statuses.at(-1) !== status) seen.statuses.push(status);
    for (const message of messages.filter((message) => message.role === 'assistant')) {
      const text = message.texts.join('');
      const previous = seen.replies.findLast((reply) => reply.id === message.id);
      if (previous?.text !== text) seen.replies.push({ id: message.id, text });
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  window.chatProbe = { read, seen };
})()`;

interface ShownMessage {
  id: string;
  role: string;
  texts: string[];
  tools: { tool: string; state: string; input: string | null; output: string | null }[];
}
interface Shown {
  status: string | null;
  messages: ShownMessage[];
}
interface Seen {
  statuses: string[];
  replies: { id: string; text: string }[];
}

let context: TestContext;
let base: string;
let site: PageSite;
/**
 * Launched with the rest, but awaited by each test (in `openChat`): without Chromium every test
 * fails with the reason, where a failed `beforeAll` would report them skipped.
 */
let browserLaunch: Promise<Browser>;

beforeAll(async () => {
  site = await servePage('use-chat-app');
  browserLaunch = launchChromium();
  // Observed by each test; this handler only keeps the rejection from being reported unhandled meanwhile.
  browserLaunch.catch(() => undefined);
  [context] = await Promise.all([
    createTestContext({ corsOrigins: [site.origin], demoWordsPerSecond: WORDS_PER_SECOND }),
    site.build(),
  ]);
  base = await context.listen();
});
afterAll(async () => {
  const browser = await browserLaunch?.catch(() => null);
  await browser?.close();
  await site?.close();
  await context?.close();
});

let browserContext: BrowserContext | undefined;
let pageErrors: string[] = [];
afterEach(async () => {
  await browserContext?.close();
  browserContext = undefined;
  expect(pageErrors).toEqual([]);
});

/** A fresh browser profile on the test page, configured for `thread`, once it has mounted. */
async function openChat(thread: ThreadRef): Promise<Page> {
  browserContext = await (await browserLaunch).newContext();
  const page = await browserContext.newPage();
  // Well inside the test's own timeout, so a wait that fails says what it waited for.
  page.setDefaultTimeout(10_000);
  pageErrors = collectPageErrors(page);
  await page.addInitScript(PAGE_PROBE);
  const query = new URLSearchParams({
    baseUrl: base,
    apiKey: thread.key,
    agentId: thread.agentId,
    threadId: thread.threadId,
  });
  const resumed = await load(page, thread, () => page.goto(`${site.origin}/?${query}`));
  // Nothing was running: useChat({resume: true}) was told so at once, and the page is ready.
  expect(resumed.status()).toBe(204);
  return page;
}

/**
 * Loads the page (`navigate`) and waits for the chat to mount and for useChat's resume request
 * (made once per load, on mount) to be answered: a message sent before that answer would race it.
 */
async function load(page: Page, thread: ThreadRef, navigate: () => Promise<unknown>): Promise<PageResponse> {
  const resumeUrl = `${base}/api/v1/chat/${thread.agentId}/ui-messages/${thread.threadId}/stream`;
  const resumed = page.waitForResponse(resumeUrl);
  await navigate();
  const response = await resumed;
  await page.locator('.status').waitFor();
  return response;
}

const shown = (page: Page) => page.evaluate('chatProbe.read()') as Promise<Shown>;
const seen = (page: Page) => page.evaluate('chatProbe.seen') as Promise<Seen>;
const forgetSeen = (page: Page) =>
  page.evaluate('chatProbe.seen.statuses.splice(0, Infinity, chatProbe.read().status), chatProbe.seen.replies = []');

async function send(page: Page, text: string): Promise<void> {
  await forgetSeen(page);
  await page.getByPlaceholder('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Until the page has streamed a reply and is ready again (or shows an error). */
async function replyEnded(page: Page): Promise<void> {
  await page.waitForFunction(
    `(({ statuses }) => statuses.at(-1) === 'error' || (statuses.includes('streaming') && statuses.at(-1) === 'ready'))(chatProbe.seen)`,
  );
}

/** Until the page shows some of the reply's text. */
async function replyStarted(page: Page): Promise<void> {
  await page.waitForFunction(`chatProbe.seen.replies.some((reply) => reply.text.split(' ').length > 2)`);
}

/** The thread's stored messages once its run has ended (the reply is no longer in progress). */
async function storedAfterRun(thread: ThreadRef): Promise<any[]> {
  return pollUntil(
    async () => {
      const messages = await storedMessages(thread);
      return messages.at(-1)?.role === 'assistant' && messages.at(-1).metadata.status !== 'in_progress'
        ? messages
        : undefined;
    },
    { what: 'the run to end' },
  );
}

/** The texts a message showed, in order: each must extend the one before (no text lost or repeated). */
function expectGrowing(texts: string[], final: string): void {
  for (const [index, text] of texts.entries()) {
    expect(final.startsWith(text), `snapshot ${index} ${JSON.stringify(text)} is a prefix of the reply`).toBe(true);
    if (index > 0) expect(text.length).toBeGreaterThan(texts[index - 1]!.length);
  }
}

const newThread = (configuration: Record<string, unknown>) => createThreadRef(context, { base, configuration });

describe('useChat with DefaultChatTransport, in Chromium', () => {
  it('sends a message and streams the reply in, growing, until it equals the stored reply', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const logsFrom = context.logs.length;
    const page = await openChat(thread);
    await send(page, 'Hello from the browser');
    await replyEnded(page);

    const [user, assistant] = await storedMessages(thread);
    expect(user).toMatchObject({ role: 'user', content: 'Hello from the browser' });
    expect(assistant).toMatchObject({ role: 'assistant', tool_calls: [], metadata: { status: 'completed' } });
    expect(assistant.content).toContain('You said: "Hello from the browser".');
    expect(await shown(page)).toEqual({
      status: 'ready',
      messages: [
        { id: expect.any(String), role: 'user', texts: ['Hello from the browser'], tools: [] },
        { id: assistant.id, role: 'assistant', texts: [assistant.content], tools: [] },
      ],
    });
    const { statuses, replies } = await seen(page);
    expect(statuses).toEqual(['ready', 'submitted', 'streaming', 'ready']);
    const texts = replies.map((reply) => reply.text);
    expect(replies.every((reply) => reply.id === assistant.id)).toBe(true);
    expectGrowing(texts, assistant.content);
    expect(texts.at(-1)).toBe(assistant.content);
    // Seen growing: at least two distinct partial texts before the whole reply.
    expect(texts.filter((text) => text !== '' && text !== assistant.content).length).toBeGreaterThanOrEqual(2);
    // The page is cross-origin to the API: the browser asked first (the key is not a simple header).
    const preflights = context.logs
      .slice(logsFrom)
      .map((line) => JSON.parse(line) as { method?: string; status?: number })
      .filter((entry) => entry.method === 'OPTIONS');
    expect(preflights.length).toBeGreaterThan(0);
    expect(preflights.map((entry) => entry.status)).toEqual(preflights.map(() => 204));
  });

  it('shows a built-in tool call as a tool part with its input and output', async () => {
    const thread = await newThread({ model: 'demo', tools: ['calculator'] });
    const page = await openChat(thread);
    await send(page, 'calculate 17*23');
    await replyEnded(page);

    const [, assistant] = await storedMessages(thread);
    expect(assistant).toMatchObject({
      role: 'assistant',
      content: "17*23 = 391. (Answered by Parley's offline demo model.)",
      metadata: { status: 'completed' },
      tool_calls: [
        {
          tool_name: 'calculator',
          arguments: { expression: '17*23' },
          result: { expression: '17*23', result: 391 },
          error: null,
        },
      ],
    });
    const expected: ShownMessage = {
      id: assistant.id,
      role: 'assistant',
      texts: [assistant.content],
      tools: [
        {
          tool: 'calculator',
          state: 'output-available',
          input: '{"expression":"17*23"}',
          output: '{"expression":"17*23","result":391}',
        },
      ],
    };
    expect((await shown(page)).messages[1]).toEqual(expected);
    // The same after a reload, from the stored thread (the example's initial messages).
    expect((await load(page, thread, () => page.reload())).status()).toBe(204);
    expect((await shown(page)).messages[1]).toEqual(expected);
  });

  it('stops mid-reply: the page is ready again and its text stops growing; the run is cancelled', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const page = await openChat(thread);
    await send(page, 'Hello, then stop');
    await replyStarted(page);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.status[data-status="ready"]').waitFor();
    const atStop = (await shown(page)).messages[1]!;

    const [, assistant] = await storedAfterRun(thread);
    // The run has ended on the server, so nothing more could reach the page: what it shows now is
    // what it showed when it stopped.
    const { messages } = await shown(page);
    expect(messages).toEqual([expect.objectContaining({ role: 'user', texts: ['Hello, then stop'] }), atStop]);
    expect(atStop).toMatchObject({ id: assistant.id, role: 'assistant', tools: [] });
    expect(assistant.metadata.status).toBe('cancelled');
    const text = atStop.texts.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(assistant.content.startsWith(text)).toBe(true);
    const { replies } = await seen(page);
    expect(replies.at(-1)).toEqual({ id: assistant.id, text });
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
  });

  it('resumes after a reload mid-reply: the whole reply, once; a reload when idle finds nothing to resume', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const page = await openChat(thread);
    await send(page, 'Hello, then reload');
    await replyStarted(page);
    const beforeReload = (await shown(page)).messages[1]!.texts.join('');
    const resumed = await load(page, thread, () => page.reload());
    expect(resumed.status()).toBe(200);
    expect(resumed.headers()['x-vercel-ai-ui-message-stream']).toBe('v1');
    await replyEnded(page);

    const [user, assistant] = await storedMessages(thread);
    expect(assistant.metadata.status).toBe('completed');
    const storedThread: Shown = {
      status: 'ready',
      messages: [
        { id: user.id, role: 'user', texts: ['Hello, then reload'], tools: [] },
        { id: assistant.id, role: 'assistant', texts: [assistant.content], tools: [] },
      ],
    };
    expect(await shown(page)).toEqual(storedThread);
    expect(assistant.content.length).toBeGreaterThan(beforeReload.length);
    // The reloaded page rebuilt the reply from its start, never showing any of it twice.
    const { statuses, replies } = await seen(page);
    expect(statuses).toEqual(['ready', 'submitted', 'streaming', 'ready']);
    expect(replies.every((reply) => reply.id === assistant.id)).toBe(true);
    expectGrowing(
      replies.map((reply) => reply.text),
      assistant.content,
    );

    // Idle now: the resume request is answered 204 (and ends), and the page shows the stored thread, ready.
    const idle = await load(page, thread, () => page.reload());
    expect(idle.status()).toBe(204);
    expect(await idle.finished()).toBeNull();
    expect(await shown(page)).toEqual(storedThread);
    expect((await seen(page)).statuses).toEqual(['ready']);
  });
});
