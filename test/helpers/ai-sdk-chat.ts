import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';

/**
 * Every chunk of an AI SDK UI message stream (as a transport returns it), and the message the
 * SDK's own `readUIMessageStream` builds of them; a stream's `error` chunk is thrown.
 */
export async function readChat(
  stream: ReadableStream<UIMessageChunk>,
): Promise<{ chunks: UIMessageChunk[]; last: UIMessage }> {
  const [forReader, forList] = stream.tee();
  const chunks: UIMessageChunk[] = [];
  const collecting = (async () => {
    for await (const chunk of forList as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
  })();
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream<UIMessage>({ stream: forReader, terminateOnError: true }))
    last = message;
  await collecting;
  if (!last) throw new Error('the stream built no message');
  return { chunks, last };
}

/** The chunk types of a reply that calls one tool, then answers in text: two steps. */
export const TOOL_THEN_ANSWER_CHUNK_TYPES = [
  'start',
  'start-step',
  'tool-input-available',
  'tool-output-available',
  'finish-step',
  'start-step',
  'text-start',
  'text-delta',
  'text-delta',
  'text-delta',
  'text-end',
  'finish-step',
  'finish',
];
