import { verifyEvents } from '@ag-ui/client';
import type { BaseEvent } from '@ag-ui/core';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/domain/models.js';
import { AG_UI_DIALECT, createAgUiView } from '../../src/features/ag-ui/ag-ui-view.js';
import { AppError } from '../../src/errors.js';
import type { LiveEvent } from '../../src/runtime/live-bus.js';

/** The AG-UI view on its own: what it leaves out, and that what it sends is a valid run whatever the log says. */

const RUN = 'run-parley';
const REPLY = 'reply-1';
const scope = { threadId: 'thread-1', runId: 'run-client', parleyRunId: RUN };

let seq = 0;
function event<Type extends LiveEvent['type']>(
  type: Type,
  data: Extract<LiveEvent, { type: Type }>['data'],
): LiveEvent {
  seq += 1;
  return { type, data, id: { seq, delta: 0 } } as LiveEvent;
}

function message(id: string, role: string, content = ''): ChatMessage {
  return {
    id,
    thread_id: 'thread-1',
    content,
    content_html: null,
    role,
    tool_calls: [],
    attachments: [],
    metadata: role === 'assistant' ? { model: 'demo' } : {},
    created_at: '2026-12-01T00:00:00.000Z',
    feedback: null,
  };
}

const usage = { input_tokens: 1, output_tokens: 2, total_tokens: 3 };

function convert(events: LiveEvent[]): BaseEvent[] {
  const view = createAgUiView(scope);
  return events
    .flatMap((item) => view.toMessages(item))
    .map((frame) => {
      expect(Object.keys(frame)).toEqual(['data']);
      return JSON.parse(frame.data) as BaseEvent;
    });
}

async function verified(events: BaseEvent[]): Promise<BaseEvent[]> {
  return lastValueFrom(from(events).pipe(verifyEvents(), toArray()));
}

describe('the AG-UI view', () => {
  it('leaves out user messages, messages stored without a run and other runs’ events', async () => {
    const events = convert([
      event('message-start', { message_id: 'user-1', role: 'user', run_id: null }),
      event('message-end', { message: message('user-1', 'user', 'Hi') }),
      event('run-start', { run_id: RUN, message_id: REPLY, model: 'demo' }),
      event('message-start', { message_id: REPLY, role: 'assistant', run_id: RUN }),
      event('text-delta', { message_id: REPLY, run_id: RUN, step: 1, delta: 'Hello' }),
      // Another client stores an assistant message meanwhile: not this run's.
      event('message-start', { message_id: 'stored-1', role: 'assistant', run_id: null }),
      event('message-end', { message: message('stored-1', 'assistant', 'Imported') }),
      event('text-delta', { message_id: 'other', run_id: 'another-run', step: 1, delta: 'Elsewhere' }),
      event('text-delta', { message_id: REPLY, run_id: RUN, step: 1, delta: '' }),
      event('message-end', { message: message(REPLY, 'assistant', 'Hello') }),
      event('run-end', {
        run_id: RUN,
        status: 'completed',
        finish_reason: 'stop',
        usage,
        message: message(REPLY, 'assistant', 'Hello'),
      }),
    ]);
    expect(events.map((item) => item.type)).toEqual([
      'RUN_STARTED',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'RUN_FINISHED',
    ]);
    expect(await verified(events)).toEqual(events);
  });

  it('closes the reply before RUN_FINISHED when the log ends the run without message-end (a deleted thread)', async () => {
    const events = convert([
      event('run-start', { run_id: RUN, message_id: REPLY, model: 'demo' }),
      event('message-start', { message_id: REPLY, role: 'assistant', run_id: RUN }),
      event('text-delta', { message_id: REPLY, run_id: RUN, step: 1, delta: 'Cut ' }),
      event('run-end', {
        run_id: RUN,
        status: 'cancelled',
        finish_reason: 'cancelled',
        usage,
        message: message(REPLY, 'assistant', 'Cut '),
      }),
    ]);
    expect(events.slice(-2)).toEqual([
      { type: 'TEXT_MESSAGE_END', messageId: REPLY },
      expect.objectContaining({ type: 'RUN_FINISHED', runId: 'run-client', outcome: { type: 'cancelled' } }),
    ]);
    expect(await verified(events)).toEqual(events);
  });

  it('ends a stream the server ends with RUN_ERROR and Parley’s code', () => {
    expect(JSON.parse(AG_UI_DIALECT.failure(new AppError('slow_consumer'))[0]!.data)).toEqual({
      type: 'RUN_ERROR',
      message:
        'The client did not read the stream fast enough. The run goes on and its reply is stored: read it with GET …/messages.',
      code: 'slow_consumer',
    });
    expect(JSON.parse(AG_UI_DIALECT.shutdown[0]!.data)).toMatchObject({
      type: 'RUN_ERROR',
      code: 'service_unavailable',
    });
  });
});

describe('the AG-UI view of tool approval', () => {
  const key = { message_id: REPLY, run_id: RUN, step: 1, tool_name: 'wire_money' };
  const start = [
    event('run-start', { run_id: RUN, message_id: REPLY, model: 'demo' }),
    event('message-start', { message_id: REPLY, role: 'assistant', run_id: RUN }),
  ];
  const request = (id: string) =>
    event('tool-approval-request', {
      ...key,
      tool_call_id: id,
      arguments: { amount: 5 },
      expires_at: '2026-12-01T00:10:00.000Z',
    });
  const end = [
    event('message-end', { message: message(REPLY, 'assistant', 'Ok') }),
    event('run-end', {
      run_id: RUN,
      status: 'completed',
      finish_reason: 'stop',
      usage,
      message: message(REPLY, 'assistant', 'Ok'),
    }),
  ];

  it('announces the call with a CUSTOM event, then its result, as a run verifyEvents accepts', async () => {
    const events = await verified(
      convert([
        ...start,
        request('call_a'),
        request('call_b'),
        event('tool-call-start', {
          ...key,
          tool_call_id: 'call_a',
          arguments: { amount: 5 },
          start_time: '2026-12-01T00:01:00.000Z',
        }),
        event('tool-call-end', {
          ...key,
          tool_call_id: 'call_a',
          result: { sent: 5 },
          error: null,
          end_time: '2026-12-01T00:01:00.000Z',
          approval: 'approved',
        }),
        event('tool-call-end', {
          ...key,
          tool_call_id: 'call_b',
          result: null,
          error: 'Rejected by the user.',
          end_time: '2026-12-01T00:01:00.000Z',
          approval: 'rejected',
        }),
        ...end,
      ]),
    );
    const types = events.map((item) => item.type);
    expect(types).toEqual([
      'RUN_STARTED',
      'TEXT_MESSAGE_START',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'CUSTOM',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'CUSTOM',
      'TOOL_CALL_RESULT',
      'TOOL_CALL_RESULT',
      'TEXT_MESSAGE_END',
      'RUN_FINISHED',
    ]);
    expect(events[5]).toMatchObject({
      type: 'CUSTOM',
      name: 'parley.tool-approval-request',
      value: { tool_call_id: 'call_a', arguments: { amount: 5 } },
    });
    expect(events[11]).toMatchObject({ toolCallId: `${REPLY}:call_b`, content: 'Rejected by the user.' });
  });
});
