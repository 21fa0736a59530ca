import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import {
  expectAccessible,
  expectFitsPhone,
  expectNoSidewaysScroll,
  launchStudioBrowser,
  openPage,
  openPageOnPhone,
  screenshot,
  signIn,
} from './studio-page.js';

/**
 * The studio's flows in Chromium (issue 15): a flow created with a variable and a schedule (a bad
 * cron first, refused with the server's detail), run now and followed to its end; then one with
 * every field of a definition — tools chosen from the agent's, an output schema checked as JSON
 * in the page, execution defaults and retries — stored, and shown again after a reload.
 */

let context: TestContext;
let api: ReturnType<typeof client>;
let base: string;
let browser: ReturnType<typeof launchStudioBrowser>;
let page: Page;
let pageErrors: string[] = [];
let agentId: string;

beforeAll(async () => {
  browser = launchStudioBrowser();
  context = await createTestContext({ jobs: { pollMs: 50 } });
  base = await context.listen();
  const org = await context.newOrganization();
  api = client(context, org.key);
  agentId = (await api.createAgent({ name: 'Reporter', configuration: { model: 'demo', tools: [] } })).id;
  for (const name of ['current_time', 'calculator']) {
    const body = { tool_name: name, tool_type: 'built_in', configuration: {}, is_enabled: true };
    const attached = await api.post(`/api/v1/agents/${agentId}/tools`, body);
    expect(attached.status, attached.raw).toBe(200);
  }
  ({ page, pageErrors } = await browser.open());
  await signIn(page, { url: `${base}/studio/flows`, key: org.key, heading: 'Flows' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await context?.close();
});

describe('Parley Studio: flows, in Chromium', () => {
  it('creates a flow with a variable and a schedule, and shows the server’s detail for a bad cron', async () => {
    await openPage(page, 'Flows');
    await page.getByRole('button', { name: 'New flow' }).click();
    const editor = page.getByRole('form', { name: 'New flow' });
    await editor.getByLabel('Name', { exact: true }).fill('Weather report');
    await editor.getByLabel('Instructions').fill('Write a weather report for {{city}}.');
    await editor.getByText('Not declared yet: city.').waitFor();
    await editor.getByRole('button', { name: 'Add variable' }).click();
    const variable = editor.getByRole('group', { name: 'Variable 1' });
    await variable.getByLabel('Variable name').fill('city');
    await variable.getByLabel('Required').check();
    await variable.getByLabel('Default').fill('Paris');
    await editor.getByRole('button', { name: 'Add schedule' }).click();
    const schedule = editor.getByRole('group', { name: 'Schedule 1' });
    await schedule.getByLabel('Cron').fill('not a cron');
    await schedule.getByLabel('Time zone').fill('Europe/Paris');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    const refused = await api.post(`/api/v1/agents/${agentId}/flows`, {
      name: 'Weather report',
      instructions: 'x',
      schedules: [{ cron: 'not a cron', timezone: 'Europe/Paris' }],
    });
    expect(refused.status).toBe(422);
    const detail = refused.body.detail.map((issue: any) => `${issue.loc.join('.')}: ${issue.msg}`).join('; ');
    await expect.poll(() => editor.getByRole('alert').textContent()).toBe(detail);
    expect((await api.get(`/api/v1/agents/${agentId}/flows`)).body).toEqual([]);
    pageErrors.splice(0);

    await schedule.getByLabel('Cron').fill('0 7 * * 1');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    const saved = page.getByRole('form', { name: 'Edit Weather report' });
    await saved.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const flows = (await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[];
    expect(flows).toEqual([
      expect.objectContaining({
        agent_id: agentId,
        name: 'Weather report',
        instructions: 'Write a weather report for {{city}}.',
        variables: [{ name: 'city', type: 'string', required: true, default: 'Paris' }],
        tools: [],
        schedules: [
          {
            id: expect.any(String),
            cron: '0 7 * * 1',
            timezone: 'Europe/Paris',
            variables: {},
            next_run_at: expect.any(String),
          },
        ],
      }),
    ]);
    // Mondays at 07:00 in Paris: 05:00 or 06:00 UTC.
    const next = new Date(flows[0].schedules[0].next_run_at);
    expect([next.getUTCDay(), [5, 6].includes(next.getUTCHours()), next.getUTCMinutes()]).toEqual([1, true, 0]);
    await expect.poll(() => page.locator(`tr[data-flow-id="${flows[0].id}"]`).textContent()).toContain('0 7 * * 1');
    await expectAccessible(page);
    await screenshot(page, 'flows');
    expect(pageErrors).toEqual([]);
  });

  it('runs the flow now with its variables and follows the execution to its end', async () => {
    const flow = ((await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[])[0];
    await page.locator(`tr[data-flow-id="${flow.id}"]`).getByRole('button', { name: /^Run/ }).click();
    const run = page.getByRole('region', { name: 'Run Weather report' });
    expect(await run.getByLabel('city').inputValue()).toBe('Paris');
    await run.getByLabel('city').fill('Lyon');
    await run.getByRole('button', { name: 'Run now' }).click();
    await run.locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    const executionId = await run.locator('[data-execution-id]').getAttribute('data-execution-id');
    const execution = (await api.get(`/api/v1/flows/executions/${executionId}`)).body as any;
    expect(execution).toMatchObject({
      flow_id: flow.id,
      agent_id: agentId,
      trigger_type: 'manual',
      variables: { city: 'Lyon' },
      status: 'completed',
      error_message: null,
      final_output: { text: expect.any(String) },
    });
    // The demo model repeats its task: the instructions with the variable filled in.
    expect(execution.final_output.text).toContain('You said: "Write a weather report for Lyon."');
    await expect.poll(() => run.getByRole('button', { name: 'Run now' }).isEnabled()).toBe(true);
    expect(JSON.parse((await run.locator('.json').first().textContent())!)).toEqual(execution.final_output);
    const stepTypes = await run
      .getByRole('region', { name: 'Timeline' })
      .locator('.step')
      .evaluateAll((steps) => steps.map((step) => step.getAttribute('data-step-type')));
    expect(stepTypes).toEqual(execution.steps.map((step: any) => step.step_type));
    expect(stepTypes.length).toBeGreaterThan(0);
    await expectAccessible(page);
    await screenshot(page, 'flow-run');

    await openPage(page, 'Executions');
    await page.getByLabel('Trigger').selectOption('manual');
    await expect
      .poll(() =>
        page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-execution-id'))),
      )
      .toEqual([executionId]);
    expect(pageErrors).toEqual([]);
  });

  it('creates a flow with tools, an output schema, defaults, retries and a schedule, stored as shown', async () => {
    await openPage(page, 'Flows');
    await page.getByRole('button', { name: 'New flow' }).click();
    const editor = page.getByRole('form', { name: 'New flow' });
    await editor.getByLabel('Name', { exact: true }).fill('Daily digest');
    await editor.getByLabel('Description').fill('A short digest every morning.');
    await editor.getByLabel('Instructions').fill('Write a digest about {{topic}}.');
    await editor.getByRole('button', { name: 'Add variable' }).click();
    await editor.getByRole('group', { name: 'Variable 1' }).getByLabel('Variable name').fill('topic');
    // Least privilege: the agent's two tools are listed, neither is chosen until ticked.
    const tools = editor.getByRole('group', { name: 'Tools' });
    await tools.getByLabel('calculator').waitFor();
    expect(await tools.getByRole('checkbox').evaluateAll((boxes) => boxes.map((box) => (box as any).checked))).toEqual([
      false,
      false,
    ]);
    await tools.getByLabel('current_time').check();

    const schema = editor.getByLabel('Output schema (JSON Schema)');
    await schema.fill('{"type": "object",');
    await expect.poll(() => editor.locator('#output-schema-note').textContent()).toBe('Output schema: not valid JSON.');
    expect(await schema.getAttribute('aria-invalid')).toBe('true');
    expect(await editor.getByRole('button', { name: 'Save flow' }).isDisabled()).toBe(true);
    await schema.fill('[1, 2]');
    await expect
      .poll(() => editor.locator('#output-schema-note').textContent())
      .toBe('Output schema: not a JSON object.');
    const outputSchema = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } };
    await schema.fill(JSON.stringify(outputSchema));
    expect(await schema.getAttribute('aria-invalid')).toBeNull();

    await editor.getByLabel('Timeout (seconds)').fill('120');
    await editor.getByLabel('Priority').selectOption('high');
    await editor.getByLabel('Retry a failed execution').check();
    const retry = editor.getByRole('group', { name: 'Retry configuration' });
    await retry.getByLabel('Retries', { exact: true }).fill('2');
    await retry.getByLabel('Backoff').selectOption('fixed');
    await retry.getByLabel('First delay (ms)').fill('500');
    await retry.getByLabel('Longest delay (ms)').fill('5000');
    await retry.getByLabel('Retry when timed out').uncheck();
    await editor.getByRole('button', { name: 'Add schedule' }).click();
    const schedule = editor.getByRole('group', { name: 'Schedule 1' });
    await schedule.getByLabel('Cron').fill('30 6 * * *');
    await schedule.getByLabel('Time zone').fill('UTC');
    await schedule.getByLabel('Schedule variables (JSON)').fill('{"topic": "news"}');
    await expectAccessible(page);
    await expectFitsPhone(page, 'Flow editor');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    await page.getByRole('form', { name: 'Edit Daily digest' }).getByRole('status').waitFor();

    const flows = (await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[];
    const stored = flows.find((flow) => flow.name === 'Daily digest');
    expect(stored).toMatchObject({
      description: 'A short digest every morning.',
      instructions: 'Write a digest about {{topic}}.',
      variables: [{ name: 'topic', type: 'string', required: false }],
      tools: ['current_time'],
      output_schema: outputSchema,
      timeout_seconds: 120,
      priority: 'high',
      retry_config: {
        max_retries: 2,
        backoff: 'fixed',
        initial_delay_ms: 500,
        max_delay_ms: 5000,
        retry_on: ['failed'],
      },
      schedules: [{ id: expect.any(String), cron: '30 6 * * *', timezone: 'UTC', variables: { topic: 'news' } }],
    });
    expect(stored.schedules[0].next_run_at).toMatch(/T06:30:00/);

    // After a reload the editor shows what was stored.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();
    await page.locator(`tr[data-flow-id="${stored.id}"]`).getByRole('button', { name: /^Edit/ }).click();
    const again = page.getByRole('form', { name: 'Edit Daily digest' });
    expect(await again.getByLabel('Description').inputValue()).toBe('A short digest every morning.');
    await again.getByRole('group', { name: 'Tools' }).getByLabel('calculator').waitFor();
    expect(await again.getByLabel('current_time').isChecked()).toBe(true);
    expect(await again.getByLabel('calculator').isChecked()).toBe(false);
    expect(JSON.parse(await again.getByLabel('Output schema (JSON Schema)').inputValue())).toEqual(outputSchema);
    expect(await again.getByLabel('Timeout (seconds)').inputValue()).toBe('120');
    expect(await again.getByLabel('Priority').inputValue()).toBe('high');
    const retryAgain = again.getByRole('group', { name: 'Retry configuration' });
    expect(await retryAgain.getByLabel('Retries', { exact: true }).inputValue()).toBe('2');
    expect(await retryAgain.getByLabel('Backoff').inputValue()).toBe('fixed');
    expect(await retryAgain.getByLabel('First delay (ms)').inputValue()).toBe('500');
    expect(await retryAgain.getByLabel('Longest delay (ms)').inputValue()).toBe('5000');
    expect(await retryAgain.getByLabel('Retry when failed').isChecked()).toBe(true);
    expect(await retryAgain.getByLabel('Retry when timed out').isChecked()).toBe(false);
    const scheduleAgain = again.getByRole('group', { name: 'Schedule 1' });
    expect(await scheduleAgain.getByLabel('Cron').inputValue()).toBe('30 6 * * *');
    expect(JSON.parse(await scheduleAgain.getByLabel('Schedule variables (JSON)').inputValue())).toEqual({
      topic: 'news',
    });
    await expectAccessible(page);
    await screenshot(page, 'flow-editor', true);
    expect(pageErrors).toEqual([]);
  });

  it('clears the defaults when their fields are emptied', async () => {
    const editor = page.getByRole('form', { name: 'Edit Daily digest' });
    await editor.getByLabel('Timeout (seconds)').fill('');
    await editor.getByLabel('Priority').selectOption('');
    await editor.getByLabel('Retry a failed execution').uncheck();
    await editor.getByLabel('current_time').uncheck();
    await editor.getByLabel('Output schema (JSON Schema)').fill('');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    await editor.getByRole('status').waitFor();
    const flows = (await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[];
    expect(flows.find((flow) => flow.name === 'Daily digest')).toMatchObject({
      tools: [],
      output_schema: null,
      timeout_seconds: null,
      priority: null,
      retry_config: null,
    });
    expect(pageErrors).toEqual([]);
  });

  it('fits a 390 px wide screen: the flows page and its editor do not scroll sideways', async () => {
    await openPageOnPhone(page, 'Flows');
    await page.getByRole('button', { name: 'New flow' }).click();
    const editor = page.getByRole('form', { name: 'New flow' });
    await editor.getByRole('button', { name: 'Add variable' }).click();
    await editor.getByRole('button', { name: 'Add schedule' }).click();
    await editor.getByLabel('Retry a failed execution').check();
    await expectNoSidewaysScroll(page, 'Flows');
    await screenshot(page, 'mobile-flows');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(pageErrors).toEqual([]);
  });
});
