import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { open, signIn, runPipelinesToApproval } from './helpers';

test.beforeAll(async ({ request }) => runPipelinesToApproval(request));

/** Calls a server function with the page's session, as the app does. */
async function call(page: Page, endpoint: string, form: Record<string, string>) {
  const origin = new URL(page.url()).origin;
  return page.request.post(`/api/${endpoint}`, { headers: { Accept: 'application/json', Origin: origin }, form });
}

test('a manager filters the log to one person\'s votes, opens a row and downloads the CSV', async ({ page }, testInfo) => {
  const pipeline = testInfo.project.name === 'js' ? 'inventory-service-qa' : 'identity-service-qa';
  // Priya rejects a QA request of her own (no other test decides it).
  await signIn(page, 'Priya Raman', testInfo);
  let request = '';
  await expect(async () => {
    const view = await (await call(page, 'approvals', {})).json();
    const item = view.pending.find((q: { item: { pipeline: string } }) => q.item.pipeline === pipeline);
    expect(item, `${pipeline} waits`).toBeTruthy();
    request = item.item.id;
  }).toPass({ timeout: 30_000 });
  const voted = await call(page, 'approvals/decide', { request, decision: 'reject', comment: `Audit trail check for ${pipeline}` });
  expect(voted.status()).toBe(200);

  await signIn(page, 'Morgan Lee', testInfo);
  await open(page, '/audit', testInfo);
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  const form = page.getByRole('form', { name: 'Filter the audit log' });
  await form.getByLabel('Person').selectOption({ label: 'Priya Raman' });
  await form.getByLabel('Kind').selectOption({ label: 'Vote' });
  await form.getByRole('button', { name: 'Filter' }).click();
  // A plain GET form: every field is in the address, the empty ones too.
  await expect(page).toHaveURL(/\/audit\?person=[0-9a-f-]+&.*kind=vote/);
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toBeVisible();
  for (const kind of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))) expect(kind).toBe('vote');
  // The row leads with the service and environment; the pipeline's id is under it.
  const service = pipeline === 'inventory-service-qa' ? 'Inventory service' : 'Identity service';
  const row = rows.filter({ hasText: `Priya Raman voted: rejected on ${service} in QA` });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('audit-sentence')).toHaveText(`Priya Raman voted: rejected on ${service} in QA`);
  await expect(row.locator('summary').getByText(pipeline, { exact: true })).toBeVisible();
  // The row opens to its details, by keyboard too.
  await row.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(row.getByText(`Audit trail check for ${pipeline}`)).toBeVisible();
  await expect(row.getByTestId('row-hash')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(row.getByRole('link', { name: 'Open the approval' })).toHaveAttribute('href', new RegExp(`request=${request}`));

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toMatch(/^gatehouse-audit-.*\.csv$/);
  const csv = readFileSync(await download.path(), 'utf-8');
  const [header, start, ...rest] = csv.trim().split('\r\n');
  expect(header.startsWith('seq,at,event,actor_id,actor_name,actor_roles')).toBeTruthy();
  expect(header.endsWith('prev_hash,hash')).toBeTruthy();
  // The start line names the row before the first one; the end line counts
  // the rows and names the last (so a removed first or last row shows).
  expect(start).toMatch(/^#export=start,after_seq=\d+,after_hash=[0-9a-f]{64},filtered=true$/);
  const end = rest.pop() ?? '';
  expect(end).toMatch(/^#export=end,rows=\d+,last_seq=\d+,last_hash=[0-9a-f]{64}$/);
  const lines = rest;
  expect(lines.some((l) => l.includes(`Audit trail check for ${pipeline}`))).toBeTruthy();
  expect(lines.every((l) => l.split(',')[2] === 'vote')).toBeTruthy();
});

test('a developer sees only their team\'s rows and a stakeholder is told why not', async ({ page }, testInfo) => {
  await signIn(page, 'Lena Fischer', testInfo);
  await open(page, '/audit', testInfo);
  await expect(page.getByTestId('limited-to')).toHaveText('You see your team\'s rows: frontend.');
  // Another team's rows are not there even when asked for by address.
  await open(page, '/audit?team=backend', testInfo);
  await expect(page.getByTestId('audit-empty')).toHaveText('No audit rows match these filters.');
  await expect(page.getByTestId('audit-row')).toHaveCount(0);

  await signIn(page, 'Alex Kim', testInfo);
  const response = await page.goto('/audit');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('alert')).toContainText('Not allowed');
  await expect(page.getByRole('alert')).toContainText('stakeholders follow releases on the Release demo and the Board');
});
