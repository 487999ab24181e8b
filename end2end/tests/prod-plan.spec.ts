import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { open, signIn, runPipelinesToApproval } from './helpers';

test.beforeAll(async ({ request }) => runPipelinesToApproval(request));

/** Opens the plan until the board's job has read every pipeline and the
 * `waiting` services wait for their Prod approval. */
async function openPlan(page: Page, path: string, waiting: number, testInfo: Parameters<typeof open>[2]) {
  await expect(async () => {
    await open(page, path, testInfo);
    await expect(page.getByRole('list', { name: 'Services by state' })).toHaveText(`${waiting} Waiting for approval`, { timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
}

test('the Prod plan draws the demo graph with each service\'s state and lists the steps', async ({ page }, testInfo) => {
  await openPlan(page, '/prod-plan', 10, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Prod plan: release ');
  // The drawing: every service in a box with its state in words.
  const graph = page.getByRole('img', { name: /^The Prod plan of release .*: 10 services/ });
  await expect(graph).toBeVisible();
  // Its box's name once; the services it blocks name it in their third line.
  await expect(graph.locator('text', { hasText: /^Orders API$/ })).toHaveCount(1);
  await expect(graph.locator('text', { hasText: /^Blocked on Orders API/ })).not.toHaveCount(0);
  await expect(graph.locator('text', { hasText: 'Waiting for approval' })).toHaveCount(10);
  // Orders API's third line, cut to fit its box.
  await expect(graph.locator('text', { hasText: 'Blocked on Payments' })).toHaveCount(1);
  // The same plan as an ordered list: what is called goes first.
  const steps = page.getByRole('list', { name: 'Steps to Prod' });
  await expect(steps.getByRole('heading', { name: 'Step 1 of 5 (in parallel)' })).toBeVisible();
  const first = steps.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /^Step 1 of 5/ }) });
  await expect(first.getByRole('link', { name: 'Identity service' })).toBeVisible();
  const orders = steps.locator('li[data-service="orders-api"]');
  await expect(orders).toContainText('Waiting for approval');
  await expect(orders).toContainText('Blocked on Payments service, Inventory service, Identity service');
  await expect(orders).toContainText('Calls Payments service (grpc), Inventory service (queue), Identity service (grpc)');

  // One team: its services and what they call.
  await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Mobile' }).click();
  await expect(page).toHaveURL(/\/prod-plan\?team=mobile$/);
  await expect(page.getByRole('list', { name: 'Steps to Prod' }).getByRole('heading')).toHaveText(['Step 4 of 5', 'Step 5 of 5 (in parallel)']);
  await expect(page.getByRole('img', { name: /6 services/ })).toBeVisible();
});

test('a blocked Prod card says what blocks it; approving it overrides the plan with a reason', async ({ page }, testInfo) => {
  // One vote of two each: the requests stay open for the rest.
  const service = testInfo.project.name === 'js' ? 'Mobile BFF' : 'Storefront web';
  const title = `${service} to Prod`;
  await signIn(page, 'Sam Okafor', testInfo);
  const card = page.getByRole('article', { name: title });
  await expect(async () => {
    await open(page, '/approvals?env=prod', testInfo);
    await expect(card.getByTestId('plan-blocked')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
  await expect(card.getByTestId('plan-blocked')).toContainText('Blocked on Orders API, Inventory service, Identity service');
  await card.getByText('Review and decide').click();
  const override = card.getByTestId('override');
  await expect(override).toContainText('approving now overrides the Prod plan');
  await override.getByLabel('Reason to override the Prod plan (required, audited)').fill(`${service} only changes copy; the release manager agreed`);
  await card.getByRole('button', { name: `Approve ${title}` }).click();
  await expect(page.getByText('Your approval is recorded; 1 more approver is needed.')).toBeVisible();
  // The vote counts; the request waits for a second approver.
  const origin = new URL(page.url()).origin;
  const queue = await (await page.request.post('/api/approvals', { headers: { Accept: 'application/json', Origin: origin } })).json();
  const mine = queue.pending.find((q: { item: { pipeline: string } }) => q.item.pipeline === `${service === 'Mobile BFF' ? 'mobile-bff' : 'storefront-web'}-prod`);
  expect(mine.item.votes.map((v: { display_name: string }) => v.display_name)).toEqual(['Sam Okafor']);

  // The board's Prod cell says what blocks it too.
  await open(page, `/board?service=${service === 'Mobile BFF' ? 'mobile-bff' : 'storefront-web'}`, testInfo);
  await expect(page.getByRole('cell', { name: `${service} in Prod` }).getByTestId('plan-blocked')).toContainText('Blocked on Orders API');
});

test('the plan downloads as Markdown for a change ticket', async ({ page }, testInfo) => {
  await openPlan(page, '/prod-plan?team=backend', 4, testInfo);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download Markdown' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^prod-plan-.*-backend\.md$/);
  const text = readFileSync(await download.path(), 'utf-8');
  expect(text).toMatch(/^# Prod plan: release .*, BackEnd\n/);
  expect(text).toContain('## Step 1\n');
  expect(text).toContain('| Identity service (`identity-service`) | BackEnd |');
});
