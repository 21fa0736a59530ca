// An AG-UI client (the protocol CopilotKit speaks) running a turn of a Parley agent with
// @ag-ui/client's HttpAgent, unchanged: only its URL and the key header are Parley's.
import { HttpAgent } from '@ag-ui/client';

export async function main({ baseUrl, apiKey, agentId, threadId }) {
  const agent = new HttpAgent({
    url: `${baseUrl}/api/v1/chat/${agentId}/ag-ui`,
    headers: { 'x-api-key': apiKey },
    // An existing chat thread of the agent: Parley keeps its history.
    threadId,
  });
  agent.addMessage({ id: crypto.randomUUID(), role: 'user', content: 'Please calculate 17*23' });

  let text = '';
  const toolResults = [];
  const { result, newMessages } = await agent.runAgent(
    {},
    {
      onTextMessageContentEvent: ({ event }) => {
        text += event.delta;
      },
      onToolCallResultEvent: ({ event }) => {
        toolResults.push(JSON.parse(event.content));
      },
      onRunErrorEvent: ({ event }) => {
        throw new Error(`${event.code}: ${event.message}`);
      },
    },
  );
  // RUN_FINISHED's result is Parley's run-end: the run's id (its flow execution) and the stored reply.
  return { text, toolResults, runId: result.run_id, reply: result.message, newMessages };
}
