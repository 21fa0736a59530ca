import { useState } from 'react';
import { selection } from '../paths.ts';
import { AgentSelect, Page } from '../ui.tsx';
import { AgentTools } from './AgentTools.tsx';
import { ExternalToolForm } from './ExternalToolForm.tsx';
import { OpenApiImport } from './OpenApiImport.tsx';

/**
 * An agent's tools: the list (built-ins, external tools, OpenAPI imports, MCP tools), a built-in
 * to attach, an external HTTP tool described by a form, and an OpenAPI import. A create bumps
 * `round`, which remounts the list so it shows what the server stored.
 */
export function ToolsPage() {
  const [agentId, setAgentId] = useState(selection.agentId());
  const [round, setRound] = useState(0);
  const changed = () => setRound((value) => value + 1);
  return (
    <Page title="Tools" actions={<AgentSelect value={agentId} onChange={setAgentId} />}>
      {agentId && (
        <>
          <AgentTools key={`${agentId}-${round}`} agentId={agentId} />
          <ExternalToolForm agentId={agentId} onCreated={changed} />
          <OpenApiImport agentId={agentId} onImported={changed} />
        </>
      )}
    </Page>
  );
}
