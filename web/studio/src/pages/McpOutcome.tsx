import type { Schemas } from '../api.ts';

/** What the last action on an MCP server answered, as the MCP page shows it. */
export type McpOutcome =
  | { kind: 'connect'; answer: Schemas['MCPConnectResponse'] }
  | { kind: 'health'; answer: Schemas['MCPHealthCheck'] }
  | { kind: 'tools'; tools: Schemas['AgentTool'][] };

export function McpOutcomeView({ outcome }: { outcome: McpOutcome }) {
  if (outcome.kind === 'connect')
    return (
      <p className="card" role="status">
        Connect: <strong>{outcome.answer.status}</strong> {outcome.answer.message}
      </p>
    );
  if (outcome.kind === 'health') {
    const { answer } = outcome;
    return (
      <p className="card" role="status" data-health={answer.status}>
        Health: <span className={`badge ${answer.status}`}>{answer.status}</span> in{' '}
        {Math.round(answer.response_time_ms)} ms, {answer.available_tools} tools
        {answer.error_message && <span className="error"> {answer.error_message}</span>}
      </p>
    );
  }
  return (
    <section className="card" aria-label="MCP tools">
      <h2>Tools ({outcome.tools.length})</h2>
      <ul className="list">
        {outcome.tools.map((tool) => (
          <li key={tool.id} className="list-row" data-tool-name={tool.tool_name}>
            <code>{tool.tool_name}</code>
            <span className="muted">{String(tool.configuration?.['description'] ?? '')}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
