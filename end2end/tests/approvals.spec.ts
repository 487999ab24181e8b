import { test, expect, type Page, type APIRequestContext } from '@playwright/test';
import { open, signIn, runPipelinesToApproval, simulator } from './helpers';

/** Calls the CodePipeline simulator as the AWS SDK would. */
async function codepipeline(request: APIRequestContext, operation: string, body: object) {
  const response = await request.post(`${simulator}/`, {
    headers: { 'X-Amz-Target': `CodePipeline_20150709.${operation}`, 'Content-Type': 'application/x-amz-json-1.1' },
    data: JSON.stringify(body),
  });
  expect(response.ok()).toBeTruthy();
  return response.json();
}

test.beforeAll(async ({ request }) => runPipelinesToApproval(request));

/** Opens the queue until the poller has brought `title` in. */
async function openQueueWith(page: Page, title: string, testInfo: Parameters<typeof open>[2]) {
  await expect(async () => {
    await open(page, '/approvals', testInfo);
    // Requests the viewer cannot decide are folded away under why.
    const fold = page.getByTestId('others');
    if (await fold.count() && !(await page.getByRole('article', { name: title }).isVisible())) {
      await fold.locator('summary').click();
    }
    await expect(page.getByRole('article', { name: title })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  return page.getByRole('article', { name: title });
}

test('a QA engineer signs off a QA request; the pipeline moves to Deploy; the history shows it', async ({ page, request }, testInfo) => {
  const [service, pipeline] = testInfo.project.name === 'js' ? ['Checkout UI', 'checkout-ui-qa'] : ['Storefront web', 'storefront-web-qa'];
  const title = `${service} to QA`;
  await signIn(page, 'Priya Raman', testInfo);
  const card = await openQueueWith(page, title, testInfo);
  await expect(card.getByTestId('progress')).toHaveText('No approvals yet; 1 needed');
  await card.getByText('Review and decide').click();
  // Each test type has its own control; a reason is asked for once it is
  // marked not applicable (CSS only, so with JavaScript off too).
  const qa = card.getByRole('group', { name: 'QA testing' });
  await expect(qa.getByLabel('Why QA testing does not apply')).toBeHidden();
  await qa.getByRole('radio', { name: 'Not applicable' }).check();
  await expect(qa.getByLabel('Why QA testing does not apply')).toBeVisible();
  await qa.getByRole('radio', { name: 'Passed' }).check();
  await expect(qa.getByLabel('Why QA testing does not apply')).toBeHidden();
  await card.getByLabel('Evidence links').fill('https://ci.example/runs/4242');
  if (testInfo.project.name === 'js') {
    // With the keyboard: the outcome takes the focus.
    await card.getByRole('button', { name: `Approve ${title}` }).focus();
    await page.keyboard.press('Enter');
  } else {
    await card.getByRole('button', { name: `Approve ${title}` }).click();
  }
  await expect(page.getByText('Approved. CodePipeline has the decision.')).toBeVisible();
  if (testInfo.project.name === 'js') {
    await expect(page.getByRole('status').filter({ hasText: 'Approved. CodePipeline has the decision.' })).toBeFocused();
  }

  const state = await codepipeline(request, 'GetPipelineState', { name: pipeline });
  // The approved execution reached Deploy (the simulator's clock may have
  // been moved on by another test since, finishing it).
  const stage = (name: string) => state.stageStates.find((s: { stageName: string }) => s.stageName === name);
  expect(stage('Deploy').latestExecution.pipelineExecutionId).toBe(stage('Approval').latestExecution.pipelineExecutionId);
  expect(['InProgress', 'Succeeded']).toContain(stage('Deploy').latestExecution.status);

  await page.getByRole('navigation', { name: 'Approvals' }).getByRole('link', { name: 'History' }).click();
  const row = page.getByRole('row', { name: new RegExp(title) });
  await expect(row).toContainText('Approved');
  await expect(row).toContainText('Priya Raman');
  await expect(row).toContainText('QA passed');
  await expect(row).toContainText('Delivered');
  await expect(row.getByRole('list', { name: 'Evidence' }).getByRole('link', { name: 'https://ci.example/runs/4242' })).toHaveAttribute('href', 'https://ci.example/runs/4242');
});

test('a QA engineer first sees only what she can decide, with counts per environment; the rest is folded under why', async ({ page }, testInfo) => {
  await signIn(page, 'Priya Raman', testInfo);
  await expect(async () => {
    await open(page, '/approvals', testInfo);
    await expect(page.getByTestId('mine-counts')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  const pending = page.getByRole('navigation', { name: 'Pending requests' });
  await expect(pending.getByRole('link', { name: /^Waiting for you \(\d+\)$/ })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('mine-counts')).toHaveText(/^Waiting for you: (QA|Pre-Prod|Prod) \d+/);
  // Every request shown before the fold is hers to decide.
  const fold = page.getByTestId('others');
  await expect(fold).not.toHaveAttribute('open', /.*/);
  const shown = page.locator('article:visible');
  expect(await shown.count()).toBeGreaterThan(0);
  await expect(shown.getByTestId('blocked')).toHaveCount(0);
  await expect(shown.getByText('Review and decide').first()).toBeVisible();
  // The fold says how many, and why, in words.
  await expect(fold.locator('summary')).toHaveText(/^\d+ requests? you cannot decide$/);
  await fold.locator('summary').click();
  await expect(fold.getByRole('region', { name: /may approve Stage/ })).toBeVisible();
  await expect(fold.getByRole('article', { name: /to Stage$/ }).first().getByTestId('blocked')).toBeVisible();
  // The whole queue is one link away.
  await pending.getByRole('link', { name: /^All pending/ }).click();
  await expect(page).toHaveURL(/view=all/);
  await expect(page.getByTestId('others')).toHaveCount(0);
  await expect(page.getByRole('article', { name: /to Stage$/ }).first()).toBeVisible();
});

test('a developer sees no buttons on Prod, and a forged POST is refused', async ({ page }, testInfo) => {
  await signIn(page, 'Diego Alvarez', testInfo);
  const card = await openQueueWith(page, 'Orders API to Prod', testInfo);
  await expect(card.getByTestId('blocked')).toHaveText('Only SRE or QA may approve Prod.');
  await expect(card.getByRole('button')).toHaveCount(0);

  // Posted from the developer's own signed-in session (as from the browser's
  // devtools): same origin, so only the policy stands in the way.
  const origin = new URL(page.url()).origin;
  const queue = await (await page.request.post('/api/approvals', { headers: { Accept: 'application/json', Origin: origin } })).json();
  const prod = queue.pending.find((q: { item: { pipeline: string } }) => q.item.pipeline === 'orders-api-prod');
  const forged = await page.request.post('/api/approvals/decide', {
    headers: { Accept: 'application/json', Origin: origin },
    form: { request: prod.item.id, decision: 'approve' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toContain('Only SRE or QA may approve Prod.');
});

test('a cross-site POST is refused before it reaches the policy', async ({ page }, testInfo) => {
  await signIn(page, 'Priya Raman', testInfo);
  const forged = await page.request.post('/api/approvals/decide', {
    headers: { Accept: 'application/json', Origin: 'https://evil.example' },
    form: { request: '00000000-0000-0000-0000-000000000000', decision: 'approve' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toContain("did not come from Gatehouse's own pages");
});

test('a decision made in another browser reaches an open queue without a reload', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'js', 'live updates need JavaScript');
  const title = 'Inventory service to Stage';
  // The watcher: the queue, open and hydrated, anonymous.
  const watched = await openQueueWith(page, title, testInfo);
  await expect(watched).toBeVisible();

  // Someone else, in their own browser context, approves it.
  const other = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const sre = await other.newPage();
  await signIn(sre, 'Sam Okafor', testInfo);
  const card = await openQueueWith(sre, title, testInfo);
  await card.getByText('Review and decide').click();
  for (const t of ['Integration', 'API', 'UI', 'System']) {
    await card.getByRole('group', { name: `${t} testing` }).getByRole('radio', { name: 'Passed' }).check();
  }
  await card.getByRole('button', { name: `Approve ${title}` }).click();
  await expect(sre.getByText('Approved. CodePipeline has the decision.')).toBeVisible();
  await other.close();

  // The watcher's page follows within seconds (its fallback refetch is a
  // minute away): the request leaves the pending queue.
  await expect(page.getByRole('article', { name: title })).toHaveCount(0, { timeout: 5_000 });
});

test('after rejecting, an SRE starts a new run from the history', async ({ page }, testInfo) => {
  const [service, pipeline] = testInfo.project.name === 'js' ? ['Identity service', 'identity-service-stage'] : ['Mobile BFF', 'mobile-bff-stage'];
  const title = `${service} to Stage`;
  await signIn(page, 'Sam Okafor', testInfo);
  const card = await openQueueWith(page, title, testInfo);
  await card.getByText('Review and decide').click();
  await card.getByText('Reject…').click();
  await card.getByLabel('Why (required, sent to CodePipeline)').fill('Smoke tests fail on Stage');
  await card.getByRole('button', { name: `Reject ${title}` }).click();
  await expect(page.getByText('Rejected. CodePipeline has the decision.')).toBeVisible();

  await open(page, '/approvals?tab=history', testInfo);
  // Run again asks first: what it does, then the button that does it.
  const again = page.getByTestId('run-again').filter({ has: page.locator(`button[aria-label="Start the new run of ${pipeline}"]`) });
  await expect(again.getByRole('button', { name: `Start the new run of ${pipeline}` })).toBeHidden();
  await again.getByText('Run again…').click();
  await expect(again.getByText(`Starts ${pipeline} again from its source`)).toBeVisible();
  await again.getByRole('button', { name: `Start the new run of ${pipeline}` }).click();
  await expect(page.getByText(`A new run of ${pipeline} started`)).toBeVisible();
});

test('the decision panel works as an island, and live changes reach an open board and queue while a half-filled sign-off keeps its input', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'js', 'islands and live updates need JavaScript');
  const decided = 'Payments service to Stage';
  const kept = 'Design system to QA';

  // A QA engineer half-fills a sign-off.
  await signIn(page, 'Priya Raman', testInfo);
  const card = await openQueueWith(page, kept, testInfo);
  // A Stage request is not hers to decide: it waits in the fold.
  await page.getByTestId('others').locator('summary').click();
  await expect(page.getByRole('article', { name: decided })).toBeVisible();
  // Only islands hydrate: the page is server HTML with the panel's island in it.
  expect(await card.locator('leptos-island').count()).toBeGreaterThan(0);
  await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
  await card.getByText('Review and decide').click();
  await card.getByRole('group', { name: 'QA testing' }).getByRole('radio', { name: 'Passed' }).check();
  await card.getByLabel('Comment (optional)').fill('Half way through the checklist');

  // Someone watches the board in another tab.
  const watcher = await page.context().newPage();
  await open(watcher, '/board', testInfo);
  const cell = watcher.getByRole('cell', { name: 'Payments service in Stage' });
  await expect(cell.getByTestId('waiting')).toBeVisible({ timeout: 30_000 });

  // An SRE, in their own browser, approves another request.
  const other = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const sre = await other.newPage();
  await signIn(sre, 'Sam Okafor', testInfo);
  const theirs = await openQueueWith(sre, decided, testInfo);
  await theirs.getByText('Review and decide').click();
  for (const t of ['Integration', 'API', 'UI', 'System']) {
    await theirs.getByRole('group', { name: `${t} testing` }).getByRole('radio', { name: 'Passed' }).check();
  }
  await theirs.getByRole('button', { name: `Approve ${decided}` }).click();
  await expect(sre.getByText('Approved. CodePipeline has the decision.')).toBeVisible();
  await other.close();

  // The open queue drops the decided request without a reload, and the
  // half-filled sign-off is as it was.
  await expect(page.getByRole('article', { name: decided })).toHaveCount(0, { timeout: 5_000 });
  await expect(card.getByRole('group', { name: 'QA testing' }).getByRole('radio', { name: 'Passed' })).toBeChecked();
  await expect(card.getByLabel('Comment (optional)')).toHaveValue('Half way through the checklist');
  // The open board follows too.
  await expect(cell.getByTestId('waiting')).toHaveCount(0, { timeout: 10_000 });

  // The island decides without leaving the page.
  await card.getByLabel('Evidence links').fill('https://ci.example/runs/77');
  await card.getByRole('button', { name: `Approve ${kept}` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Approved. CodePipeline has the decision.' })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  await expect(page.getByRole('article', { name: kept })).toHaveCount(0, { timeout: 5_000 });
});

test('a Prod request whose revision holds an unmerged hotfix offers only Reject, and says why', async ({ page }, testInfo) => {
  const title = 'Checkout UI to Prod';
  await signIn(page, 'Sam Okafor', testInfo);
  const card = await openQueueWith(page, title, testInfo);
  await card.getByText('Review and decide').click();
  await expect(card.getByTestId('approve-held')).toContainText('contains hotfix/checkout-timeout, which is not merged back into develop yet');
  await expect(card.getByRole('button', { name: `Approve ${title}` })).toHaveCount(0);
  await card.getByText('Reject…').click();
  await expect(card.getByRole('button', { name: `Reject ${title}` })).toBeVisible();
});

test('a refused sign-off is said as an alert beside its test group, with JavaScript and without', async ({ page }, testInfo) => {
  const title = 'Orders API to QA';
  await signIn(page, 'Priya Raman', testInfo);
  const card = await openQueueWith(page, title, testInfo);
  await card.getByText('Review and decide').click();
  // Every type marked, one "not applicable" without its reason: the server refuses.
  const groups = card.getByRole('group', { name: / testing$/ });
  const count = await groups.count();
  for (let i = 0; i < count; i++) {
    await groups.nth(i).getByRole('radio', { name: i === 0 ? 'Not applicable' : 'Passed' }).check();
  }
  await card.getByRole('button', { name: `Approve ${title}` }).click();
  const alert = card.getByRole('alert');
  await expect(alert).toContainText(/reason/i);
  await expect(alert).toBeVisible();
  // The sign-off names the alert as its description; nothing is said at the top.
  const id = await alert.getAttribute('id');
  await expect(card.getByRole('group', { name: 'Sign-off: mark every test type' })).toHaveAttribute('aria-describedby', id!);
  await expect(page.getByRole('main').getByRole('alert')).toHaveCount(1);
  await expect(card).toBeVisible();
});

test('an unmarked test type keeps the form from being sent, said at the group', async ({ page }, testInfo) => {
  const title = 'Orders API to QA';
  await signIn(page, 'Priya Raman', testInfo);
  const card = await openQueueWith(page, title, testInfo);
  await card.getByText('Review and decide').click();
  const sent: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/api/approvals/decide')) sent.push(r.url()); });
  await card.getByRole('button', { name: `Approve ${title}` }).click();
  // The browser refuses before anything is sent, and says so at the group:
  // its first radio is the one it points at.
  const first = card.getByRole('group', { name: / testing$/ }).first().getByRole('radio').first();
  await expect(first).toBeFocused();
  await page.waitForTimeout(500);
  expect(sent, 'nothing was sent').toEqual([]);
  await expect(card.getByRole('alert')).toBeHidden();
});
