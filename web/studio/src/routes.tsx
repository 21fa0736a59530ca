import type { ComponentType } from 'react';
import { AgentsPage } from './pages/Agents.tsx';
import { ExecutionsPage } from './pages/Executions.tsx';
import { FeedbackPage } from './pages/Feedback.tsx';
import { KeysPage } from './pages/Keys.tsx';
import { KnowledgePage } from './pages/Knowledge.tsx';
import { McpPage } from './pages/Mcp.tsx';
import { PlaygroundPage } from './pages/Playground.tsx';
import { ThreadsPage } from './pages/Threads.tsx';
import { ToolsPage } from './pages/Tools.tsx';
import { UsagePage } from './pages/Usage.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';

export interface PageProps {
  navigate: (name: RouteName) => void;
}

/** The studio's pages, in menu order; `/studio/<name>` opens one (the server answers index.html). */
export const ROUTES = {
  agents: { label: 'Agents', page: AgentsPage },
  playground: { label: 'Playground', page: PlaygroundPage },
  threads: { label: 'Threads', page: ThreadsPage },
  executions: { label: 'Executions', page: ExecutionsPage },
  feedback: { label: 'Feedback', page: FeedbackPage },
  tools: { label: 'Tools', page: ToolsPage },
  knowledge: { label: 'Knowledge', page: KnowledgePage },
  usage: { label: 'Usage', page: UsagePage },
  keys: { label: 'Keys', page: KeysPage },
  webhooks: { label: 'Webhooks', page: WebhooksPage },
  mcp: { label: 'MCP servers', page: McpPage },
} satisfies Record<string, { label: string; page: ComponentType<PageProps> }>;

export type RouteName = keyof typeof ROUTES;

export function routeOf(pathname: string): RouteName {
  const name = pathname.replace(/^\/studio\/?/, '').split('/')[0] ?? '';
  return name in ROUTES ? (name as RouteName) : 'agents';
}

/** The agent the pages share (the playground opens the one chosen on the agents page). */
export const selection = {
  agentId: () => sessionStorage.getItem('parley-studio-agent') ?? '',
  setAgentId: (id: string) => sessionStorage.setItem('parley-studio-agent', id),
};
