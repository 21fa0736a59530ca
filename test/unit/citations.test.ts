import { readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { safeValidateTypes } from '@ai-sdk/provider-utils';
import { describe, expect, it } from 'vitest';
import {
  CITATION_TEXT_CHARACTERS,
  MAX_CITATIONS,
  citationsOfResult,
  replyCitations,
  type Citation,
} from '../../src/domain/citations.js';
import type { ToolCall } from '../../src/domain/models.js';
import { UiMessageStreamTranslator } from '../../src/features/messages/ui-message-stream.js';
import { mediaTypeOfName } from '../../src/features/messages/ui-source-parts.js';
import type { LiveEvent } from '../../src/runtime/live-bus.js';

const passage = (chunk: string, extra: Record<string, unknown> = {}) => ({
  file_id: `file-${chunk}`,
  chunk_id: chunk,
  title: `Title ${chunk}`,
  page: null,
  url: null,
  heading_path: ['Guide'],
  text: `Text of ${chunk}.`,
  similarity: 0.5,
  ...extra,
});
const cited = (chunk: string, extra: Partial<Citation> = {}): Citation => ({
  file_id: `file-${chunk}`,
  chunk_id: chunk,
  title: `Title ${chunk}`,
  page: null,
  text: `Text of ${chunk}.`,
  ...extra,
});

function call(toolName: string, result: unknown, error: string | null = null): ToolCall {
  const time = '2026-01-01T00:00:00.000Z';
  return { tool_name: toolName, arguments: {}, result, error, start_time: time, end_time: time };
}

const citingTools = new Set(['knowledge_base_search']);

describe('the citations of a knowledge search result', () => {
  it('are its passages as {file_id, chunk_id, title, page, text}, with url only for crawled chunks', () => {
    const result = {
      results: [
        passage('c1', { page: 3 }),
        passage('c2', { url: 'https://docs.example.com/refunds', title: 'Refunds' }),
        { file_id: 'f', chunk_id: 'c3', title: 'Short', page: null, text: 'without metadata' },
      ],
    };
    expect(citationsOfResult(result)).toEqual([
      { file_id: 'file-c1', chunk_id: 'c1', title: 'Title c1', page: 3, text: 'Text of c1.' },
      {
        file_id: 'file-c2',
        chunk_id: 'c2',
        title: 'Refunds',
        page: null,
        text: 'Text of c2.',
        url: 'https://docs.example.com/refunds',
      },
      { file_id: 'f', chunk_id: 'c3', title: 'Short', page: null, text: 'without metadata' },
    ]);
  });

  it('quote at most 500 characters, never cutting a surrogate pair', () => {
    const long = `${'a'.repeat(CITATION_TEXT_CHARACTERS - 2)}😀${'b'.repeat(100)}`;
    const [citation] = citationsOfResult({ results: [passage('c1', { text: long })] });
    expect(citation!.text).toBe(`${'a'.repeat(CITATION_TEXT_CHARACTERS - 2)}…`);
    expect(citation!.text.isWellFormed()).toBe(true);
    const exact = 'x'.repeat(CITATION_TEXT_CHARACTERS);
    expect(citationsOfResult({ results: [passage('c2', { text: exact })] })[0]!.text).toBe(exact);
  });

  it('are none for a result of another shape: truncated, an error text, entries missing their ids', () => {
    expect(citationsOfResult({ truncated: true, original_bytes: 2_000_000, max_bytes: 1_048_576 })).toEqual([]);
    expect(citationsOfResult('no passages')).toEqual([]);
    expect(citationsOfResult(null)).toEqual([]);
    expect(citationsOfResult({ results: [{ chunk_id: 'c1', text: 'no file' }, 'text', null] })).toEqual([]);
  });
});

describe('a reply’s citations', () => {
  it('are the passages of its knowledge calls in call order, each chunk once', () => {
    const toolCalls = [
      call('knowledge_base_search', { results: [passage('c1'), passage('c2')] }),
      call('calculator', { expression: '1+1', result: 2 }),
      call('knowledge_base_search', { results: [passage('c2'), passage('c3'), passage('c1')] }),
    ];
    expect(replyCitations({ toolCalls, citingTools })).toEqual([cited('c1'), cited('c2'), cited('c3')]);
  });

  it('leave out failed calls and the results of tools that do not cite, whatever their name', () => {
    const lookAlike = { results: [passage('forged')] };
    const toolCalls = [
      call('knowledge_base_search', lookAlike, 'Tool failed'),
      call('search_docs', lookAlike),
      call('knowledge_base_search', lookAlike),
    ];
    expect(replyCitations({ toolCalls, citingTools: new Set(['search_docs_real']) })).toEqual([]);
    expect(replyCitations({ toolCalls: toolCalls.slice(0, 2), citingTools })).toEqual([]);
  });

  it('are at most 20, the first found', () => {
    const chunks = Array.from({ length: 30 }, (_, index) => `c${index}`);
    const toolCalls = [
      call('knowledge_base_search', { results: chunks.slice(0, 15).map((chunk) => passage(chunk)) }),
      call('knowledge_base_search', { results: chunks.slice(15).map((chunk) => passage(chunk)) }),
    ];
    const citations = replyCitations({ toolCalls, citingTools });
    expect(MAX_CITATIONS).toBe(20);
    expect(citations.map((citation) => citation.chunk_id)).toEqual(chunks.slice(0, 20));
  });
});

describe('source parts in the AI SDK UI message stream', () => {
  const key = { message_id: 'reply-1', run_id: 'run-1', step: 1, tool_name: 'knowledge_base_search' };
  const live = (event: Omit<LiveEvent, 'id'>, seq: number): LiveEvent =>
    ({ ...event, id: { seq, delta: 0 } }) as unknown as LiveEvent;
  const toolEnd = (toolCallId: string, citations: Citation[] | undefined) => ({
    type: 'tool-call-end' as const,
    data: {
      ...key,
      tool_call_id: toolCallId,
      result: { results: [] },
      error: null,
      end_time: '2026-01-01T00:00:00.000Z',
      ...(citations ? { citations } : {}),
    },
  });

  async function read(events: Omit<LiveEvent, 'id'>[]): Promise<{ chunks: UIMessageChunk[]; message: UIMessage }> {
    const translator = new UiMessageStreamTranslator();
    const datas = events
      .flatMap((event, index) => translator.toMessages(live(event, index + 1)))
      .flatMap((message) => (message.data === '[DONE]' ? [] : [JSON.parse(message.data) as UIMessageChunk]));
    for (const chunk of datas) {
      const checked = await safeValidateTypes({ value: chunk, schema: uiMessageChunkSchema });
      expect(checked.success, JSON.stringify(chunk)).toBe(true);
    }
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of datas) controller.enqueue(chunk);
        controller.close();
      },
    });
    let message: UIMessage | undefined;
    for await (const built of readUIMessageStream<UIMessage>({ stream, terminateOnError: true })) message = built;
    return { chunks: datas, message: message! };
  }

  it('follow the knowledge call’s output, each chunk once, as source-url and source-document', async () => {
    const crawled = cited('c1', { url: 'https://docs.example.com/refunds', title: 'Refunds', page: null });
    const uploaded = cited('c2', { title: 'handbook.pdf', page: 4 });
    const usage = { input_tokens: 1, output_tokens: 1, total_tokens: 2 };
    const { chunks, message } = await read([
      { type: 'run-start', data: { run_id: 'run-1', message_id: 'reply-1', model: 'demo' } },
      toolEnd('call_1', [crawled, uploaded]),
      toolEnd('call_2', [uploaded]),
      toolEnd('call_3', undefined),
      {
        type: 'run-end',
        data: { run_id: 'run-1', status: 'completed', finish_reason: 'stop', usage, message: {} as never },
      },
    ]);
    const sources = chunks.filter((chunk) => chunk.type.startsWith('source-'));
    expect(sources).toEqual([
      {
        type: 'source-url',
        sourceId: 'c1',
        url: 'https://docs.example.com/refunds',
        title: 'Refunds',
        providerMetadata: { parley: { file_id: 'file-c1', page: null, text: 'Text of c1.' } },
      },
      {
        type: 'source-document',
        sourceId: 'c2',
        mediaType: 'application/pdf',
        title: 'handbook.pdf',
        filename: 'handbook.pdf',
        providerMetadata: { parley: { file_id: 'file-c2', page: 4, text: 'Text of c2.' } },
      },
    ]);
    // Right after the output of the call that found them.
    const types = chunks.map((chunk) => chunk.type);
    expect(types.slice(types.indexOf('tool-output-available'), types.indexOf('tool-output-available') + 3)).toEqual([
      'tool-output-available',
      'source-url',
      'source-document',
    ]);
    expect(message.parts.filter((part) => part.type.startsWith('source-'))).toEqual([
      expect.objectContaining({ type: 'source-url', sourceId: 'c1', url: 'https://docs.example.com/refunds' }),
      expect.objectContaining({ type: 'source-document', sourceId: 'c2', mediaType: 'application/pdf' }),
    ]);
  });

  it('name a media type from the file name’s extension, application/octet-stream otherwise', () => {
    expect(mediaTypeOfName('Notes.MD')).toBe('text/markdown');
    expect(mediaTypeOfName('report.docx')).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(mediaTypeOfName('README')).toBe('application/octet-stream');
    expect(mediaTypeOfName('x.constructor')).toBe('application/octet-stream');
  });
});
