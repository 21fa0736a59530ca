import type { Api } from './harness.js';

/** A flow of `agentId` from `body` (name and instructions defaulted); throws unless 200. */
export async function createFlow(api: Api, agentId: string, body: Record<string, unknown> = {}) {
  const response = await api.post(`/api/v1/agents/${agentId}/flows`, {
    name: 'A flow',
    instructions: 'Say hello.',
    ...body,
  });
  if (response.status !== 200) throw new Error(`createFlow: ${response.status} ${response.raw}`);
  return response.body as { id: string } & Record<string, any>;
}

/** Executes a flow; throws unless 200. Returns the execution. */
export async function execute(api: Api, flowId: string, body: Record<string, unknown> = {}) {
  const response = await api.post('/api/v1/flows/execute', { flow_id: flowId, trigger_type: 'test', ...body });
  if (response.status !== 200) throw new Error(`execute: ${response.status} ${response.raw}`);
  return response.body.execution as { id: string } & Record<string, any>;
}

const FINISHED = ['completed', 'failed', 'cancelled', 'timeout'];

/**
 * The execution once `until` holds of it (default: it has finished), read every 10 ms; throws
 * after 15 s with the last state seen. A wait for the background worker, not a timed assertion.
 */
export async function waitForExecution(
  api: Api,
  id: string,
  until: (execution: any) => boolean = (execution) => FINISHED.includes(execution.status),
): Promise<any> {
  const deadline = Date.now() + 15_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const response = await api.get(`/api/v1/flows/executions/${id}`);
    last = response.body;
    if (response.status === 200 && until(response.body)) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`execution ${id} did not reach the expected state: ${JSON.stringify(last)}`);
}

/** Resolves when `predicate` holds, checked every 10 ms; throws after 15 s. */
export async function eventually(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
