import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { selection } from '../paths.ts';
import { AgentSelect, ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';
import { McpOutcomeView, type McpOutcome } from './McpOutcome.tsx';

/** What the OAuth callback said when it sent the browser back here (`?mcp_oauth=…`). */
function oauthReturn(): string | null {
  const outcome = new URLSearchParams(window.location.search).get('mcp_oauth');
  if (outcome === 'authorized') return 'Signed in: the MCP server is connected.';
  return outcome === 'failed' ? 'The MCP server’s sign-in failed; connect again.' : null;
}

/** An agent's MCP servers: add, connect (OAuth opens the server's page), health check, tools. */
export function McpPage() {
  const [returned] = useState(oauthReturn);
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const servers = useLoad(async () => {
    if (!agentId) return [];
    return must(await client.GET('/api/v1/mcp/agents/{agent_id}/servers', { params: { path: { agent_id: agentId } } }));
  }, [agentId]);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [shown, setShown] = useState<McpOutcome | null>(null);
  const action = useAction();
  const add = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      must(
        await client.POST('/api/v1/mcp/agents/{agent_id}/servers', {
          params: { path: { agent_id: agentId } },
          body: { name, url, tool_discovery_endpoint: null },
        }),
      );
      setName('');
      setUrl('');
      servers.reload();
    });
  };
  const path = (server: Schemas['MCPServer']) => ({ agent_id: agentId, server_id: server.id });
  const connect = (server: Schemas['MCPServer']) =>
    action.run(async () => {
      const answer = must(
        await client.POST('/api/v1/mcp/agents/{agent_id}/servers/{server_id}/connect', {
          params: { path: path(server) },
        }),
      );
      if (answer.authorization_url) window.location.assign(answer.authorization_url);
      setShown({ kind: 'connect', answer });
      servers.reload();
    });
  const health = (server: Schemas['MCPServer']) =>
    action.run(async () => {
      const answer = must(
        await client.POST('/api/v1/mcp/agents/{agent_id}/servers/{server_id}/health-check', {
          params: { path: path(server) },
        }),
      );
      setShown({ kind: 'health', answer });
      servers.reload();
    });
  const tools = (server: Schemas['MCPServer']) =>
    action.run(async () => {
      const list = must(
        await client.GET('/api/v1/mcp/agents/{agent_id}/servers/{server_id}/tools', { params: { path: path(server) } }),
      );
      setShown({ kind: 'tools', tools: list });
    });
  return (
    <Page title="MCP servers" actions={<AgentSelect value={agentId} onChange={setAgentId} />}>
      {returned && (
        <p className="card notice" role="status">
          {returned}
        </p>
      )}
      <form className="card row-form" onSubmit={add} aria-label="Add an MCP server">
        <label>
          Server name
          <input value={name} onChange={(event) => setName(event.target.value)} required />
        </label>
        <label className="grow">
          Server URL
          <input type="url" value={url} onChange={(event) => setUrl(event.target.value)} required />
        </label>
        <button type="submit" disabled={action.busy}>
          Add server
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Loading loaded={servers} />
      <ul className="list">
        {(servers.data ?? []).map((server) => (
          <li key={server.id} className="list-row">
            <span>
              <strong>{server.name}</strong> <span className="muted">{server.url}</span>{' '}
              <span className={`badge ${server.status}`}>{server.status}</span>
              <span className="muted"> checked {when(server.last_health_check)}</span>
            </span>
            <span className="actions">
              <button type="button" className="secondary" onClick={() => connect(server)}>
                Connect <span className="visually-hidden">{server.name}</span>
              </button>
              <button type="button" className="secondary" onClick={() => health(server)}>
                Health check <span className="visually-hidden">{server.name}</span>
              </button>
              <button type="button" className="secondary" onClick={() => tools(server)}>
                Tools <span className="visually-hidden">{server.name}</span>
              </button>
            </span>
          </li>
        ))}
      </ul>
      {shown !== null && <McpOutcomeView outcome={shown} />}
    </Page>
  );
}
