/**
 * The studio's page names, menu labels and shared selection. The pages import this module, never
 * routes.tsx (which imports the pages): no import circle between the route table and its pages.
 */
export const PAGES = {
  agents: 'Agents',
  playground: 'Playground',
  threads: 'Threads',
  executions: 'Executions',
  flows: 'Flows',
  feedback: 'Feedback',
  tools: 'Tools',
  knowledge: 'Knowledge',
  usage: 'Usage',
  keys: 'Keys',
  webhooks: 'Webhooks',
  mcp: 'MCP servers',
} as const;

export type RouteName = keyof typeof PAGES;

export const ROUTE_NAMES = Object.keys(PAGES) as RouteName[];

export interface PageProps {
  navigate: (name: RouteName) => void;
}

/** `/studio/<name>` opens a page (the server answers index.html); anything else is the agents page. */
export function routeOf(pathname: string): RouteName {
  const name = pathname.replace(/^\/studio\/?/, '').split('/')[0] ?? '';
  return name in PAGES ? (name as RouteName) : 'agents';
}

/** The agent the pages share (the playground opens the one chosen on the agents page). */
export const selection = {
  agentId: () => sessionStorage.getItem('parley-studio-agent') ?? '',
  setAgentId: (id: string) => sessionStorage.setItem('parley-studio-agent', id),
};
