import type { Browser, BrowserContext, Page, Response as PageResponse } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { pollUntil, storedMessages, type ThreadRef } from '../helpers/sse-client.js';
import {
  buildPage,
  collectPageErrors,
  launchChromium,
  serveDirectory,
  type BuiltPage,
  type StaticSite,
} from './browser-harness.js';

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
let built: BuiltPage;
let site: StaticSite;
let browser: Browser;

beforeAll(async () => {
  [built, browser] = await Promise.all([buildPage('use-chat-app'), launchChromium()]);
  site = await serveDirectory(built.directory);
  context = await createTestContext({ corsOrigins: [site.origin], demoWordsPerSecond: WORDS_PER_SECOND });
  base = await context.listen();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await built?.remove();
  await context?.close();
});

let browserContext: BrowserContext | undefined;
let pageErrors: string[] = [];
afterEach(async () => {
  await browserContext?.close();
  browserContext = undefined;
  expect(pageErrors).toEqual([]);
});

/** A fresh browser profile on the test page, configured for `thread`, once the chat has mounted. */
async function openChat(thread: ThreadRef): Promise<Page> {
  browserContext = await browser.newContext();
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
  await page.goto(`${site.origin}/?${query}`);
  await page.locator('.status').waitFor();
  return page;
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
    const { messages } = await shown(page);
    expect(messages[1]).toEqual({
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
    });
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

  it('resumes after a reload mid-reply: the whole reply, once, then a reload when idle finds nothing to resume', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const page = await openChat(thread);
    await send(page, 'Hello, then reload');
    await replyStarted(page);
    const resumeUrl = `${base}/api/v1/chat/${thread.agentId}/ui-messages/${thread.threadId}/stream`;
    const resumes: PageResponse[] = [];
    page.on('response', (response) => {
      if (response.url() === resumeUrl) resumes.push(response);
    });
    await page.reload();
    await replyEnded(page);

    const [user, assistant] = await storedMessages(thread);
    expect(assistant.metadata.status).toBe('completed');
    expect(await shown(page)).toEqual({
      status: 'ready',
      messages: [
        { id: user.id, role: 'user', texts: ['Hello, then reload'], tools: [] },
        { id: assistant.id, role: 'assistant', texts: [assistant.content], tools: [] },
      ],
    });
    const { replies } = await seen(page);
    expectGrowing(
      replies.map((reply) => reply.text),
      assistant.content,
    );
    expect(resumes.map((response) => response.status()).at(-1)).toBe(200);
    expect(resumes.at(-1)!.headers()['x-vercel-ai-ui-message-stream']).toBe('v1');

    // Idle now: the resume request is answered 204, and the page shows the stored thread, ready.
    resumes.length = 0;
    const idleResume = page.waitForResponse(resumeUrl);
    await page.reload();
    const answer = await idleResume;
    expect(answer.status()).toBe(204);
    await page.locator('.status').waitFor();
    expect(await answer.finished()).toBeNull();
    expect(await shown(page)).toEqual({
      status: 'ready',
      messages: [
        { id: user.id, role: 'user', texts: ['Hello, then reload'], tools: [] },
        { id: assistant.id, role: 'assistant', texts: [assistant.content], tools: [] },
      ],
    });
    expect((await seen(page)).statuses).toEqual(['ready']);
  });
});
