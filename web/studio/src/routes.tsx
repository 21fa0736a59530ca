import type { ComponentType } from 'react';
import { AgentsPage } from './pages/Agents.tsx';
import { ExecutionsPage } from './pages/Executions.tsx';
import { FeedbackPage } from './pages/Feedback.tsx';
import { FlowsPage } from './pages/Flows.tsx';
import { KeysPage } from './pages/Keys.tsx';
import { KnowledgePage } from './pages/Knowledge.tsx';
import { McpPage } from './pages/Mcp.tsx';
import { PlaygroundPage } from './pages/Playground.tsx';
import { ThreadsPage } from './pages/Threads.tsx';
import { ToolsPage } from './pages/Tools.tsx';
import { UsagePage } from './pages/Usage.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import type { PageProps, RouteName } from './paths.ts';

/** The route table: each page name of paths.ts (menu order and labels) to its component. */
export const ROUTES: Record<RouteName, ComponentType<PageProps>> = {
  agents: AgentsPage,
  playground: PlaygroundPage,
  threads: ThreadsPage,
  executions: ExecutionsPage,
  flows: FlowsPage,
  feedback: FeedbackPage,
  tools: ToolsPage,
  knowledge: KnowledgePage,
  usage: UsagePage,
  keys: KeysPage,
  webhooks: WebhooksPage,
  mcp: McpPage,
};
