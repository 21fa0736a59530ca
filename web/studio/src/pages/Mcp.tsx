import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { selection } from '../paths.ts';
import { AgentSelect, ErrorNote, Json, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';

/** An agent's MCP servers: add, connect (OAuth opens the server's page), health check, tools. */
export function McpPage() {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const servers = useLoad(async () => {
    if (!agentId) return [];
    return must(await client.GET('/api/v1/mcp/agents/{agent_id}/servers', { params: { path: { agent_id: agentId } } }));
  }, [agentId]);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [shown, setShown] = useState<unknown>(null);
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
      setShown(answer);
      servers.reload();
    });
  const health = (server: Schemas['MCPServer']) =>
    action.run(async () => {
      setShown(
        must(
          await client.POST('/api/v1/mcp/agents/{agent_id}/servers/{server_id}/health-check', {
            params: { path: path(server) },
          }),
        ),
      );
      servers.reload();
    });
  const tools = (server: Schemas['MCPServer']) =>
    action.run(async () =>
      setShown(
        must(
          await client.GET('/api/v1/mcp/agents/{agent_id}/servers/{server_id}/tools', {
            params: { path: path(server) },
          }),
        ),
      ),
    );
  return (
    <Page title="MCP servers" actions={<AgentSelect value={agentId} onChange={setAgentId} />}>
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
                Connect
              </button>
              <button type="button" className="secondary" onClick={() => health(server)}>
                Health check
              </button>
              <button type="button" className="secondary" onClick={() => tools(server)}>
                Tools
              </button>
            </span>
          </li>
        ))}
      </ul>
      {shown !== null && <Json value={shown} />}
    </Page>
  );
}
