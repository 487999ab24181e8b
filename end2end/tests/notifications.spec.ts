import { expect, test } from '@playwright/test';
import { open, runPipelinesToApproval, signIn } from './helpers';

/** The webhook receiver the test server's release-train channel posts to. */
const receiver = process.env.GATEHOUSE_E2E_WEBHOOK ?? 'http://127.0.0.1:3103';

type Call = { idempotencyKey: string; body: { text?: string } | null };

test('a waiting approval produces one webhook post that links to its card', async ({ page, request }, testInfo) => {
  await runPipelinesToApproval(request);
  await signIn(page, 'Priya Raman', testInfo);
  await open(page, '/approvals', testInfo);
  const card = page.locator('li[id^="card-"]').first();
  await expect(card).toBeVisible({ timeout: 30_000 });
  const id = (await card.getAttribute('id'))!.replace(/^card-/, '');
  const link = `/approvals?request=${id}#request-${id}`;

  // The notifier's leader posts within a few seconds of the poller.
  let posts: Call[] = [];
  await expect
    .poll(
      async () => {
        const calls: Call[] = await (await request.get(`${receiver}/calls`)).json();
        posts = calls.filter((c) => (c.body?.text ?? '').includes(link));
        return posts.length;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);
  // Once, and it stays once.
  await page.waitForTimeout(2_500);
  const calls: Call[] = await (await request.get(`${receiver}/calls`)).json();
  posts = calls.filter((c) => (c.body?.text ?? '').includes(link));
  expect(posts).toHaveLength(1);
  expect(posts[0].body?.text).toMatch(/is waiting for approval/);
  expect(posts[0].idempotencyKey).toMatch(/^gatehouse-notification-\d+$/);

  // The link opens the card: Slack's `<url|label>`, its URL absolute and
  // escaped as Slack's mrkdwn asks (`&amp;` for `&`).
  const linked = (posts[0].body?.text ?? '').match(/<(https?:\/\/[^|>]+)\|Open in Gatehouse>/);
  expect(linked, 'a Slack link to the card').not.toBeNull();
  const absolute = new URL(linked![1].replaceAll('&amp;', '&'));
  expect(absolute.pathname + absolute.search + absolute.hash).toBe(link);
  await open(page, absolute.pathname + absolute.search, testInfo);
  await expect(page.getByRole('region', { name: 'The request you followed' })).toBeVisible();
});

test('the Notifications page lists channels and deliveries, and mutes are saved', async ({ page, request }, testInfo) => {
  await runPipelinesToApproval(request);
  await signIn(page, 'Morgan Lee', testInfo);
  await open(page, '/notifications', testInfo);
  await expect(page.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();
  const channels = page.getByTestId('channels');
  await expect(channels.getByRole('listitem').filter({ hasText: 'release-train' })).toContainText('Sends');
  await expect(channels.getByRole('listitem').filter({ hasText: /^approvers/ })).toContainText('Records only');
  await expect(page.getByTestId('deliveries').getByText(/is waiting for approval/).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('delivery-counts')).toContainText(/\d+ sent/);

  const box = page.getByLabel('Code freeze tomorrow');
  await box.check();
  await page.getByRole('button', { name: 'Save mutes' }).click();
  await expect(page.getByTestId('form-outcome')).toHaveText(/Muted 1 event/);
  await expect(page.getByLabel('Code freeze tomorrow')).toBeChecked();
  await page.getByLabel('Code freeze tomorrow').uncheck();
  await page.getByRole('button', { name: 'Save mutes' }).click();
  await expect(page.getByTestId('form-outcome')).toHaveText(/Nothing is muted/);
});
