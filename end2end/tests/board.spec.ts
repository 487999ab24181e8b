import { test, expect } from '@playwright/test';
import { open } from './helpers';

/** Whether `el`'s colour (or, for a `bg-` class, its background) is the
 * one a Tailwind class gives, read from a probe element with that class. */
function sameColourAs(el: Element, cls: string): boolean {
  const probe = document.createElement('span');
  probe.className = cls;
  document.body.appendChild(probe);
  const bg = cls.startsWith('bg-');
  const want = bg ? getComputedStyle(probe).backgroundColor : getComputedStyle(probe).color;
  probe.remove();
  const got = bg ? getComputedStyle(el).backgroundColor : getComputedStyle(el).color;
  return got === want;
}

/** Opens the board once the poller has recorded the demo's deployments. */
async function openBoard(page: import('@playwright/test').Page, path: string, testInfo: import('@playwright/test').TestInfo) {
  await expect(async () => {
    await open(page, path, testInfo);
    await expect(page.getByRole('cell', { name: / in Prod$/ }).first()).toContainText(/v\d{4}\.\d{2}\.0(?!-)/, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

test('the board shows the seeded org: teams, services, revisions, gaps, hotfix and health', async ({ page }, testInfo) => {
  await openBoard(page, '/board', testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Environment board');
  for (const team of ['FrontEnd', 'BackEnd', 'Mobile']) {
    await expect(page.getByRole('rowgroup', { name: team })).toBeVisible();
  }
  await expect(page.getByTestId('board-range')).toHaveText('Services 1–10 of 10');
  for (const env of ['Dev', 'Stage', 'Release', 'QA', 'Pre-Prod', 'Prod']) {
    await expect(page.getByRole('columnheader', { name: env, exact: true })).toBeVisible();
  }
  const qa = page.getByRole('cell', { name: 'Orders API in QA' });
  await expect(qa).toContainText(/v\d{4}\.\d{2}\.0-rc\.1/);
  await expect(qa.getByTestId('behind')).toContainText('2 commits behind Release');
  await expect(qa.getByTestId('status')).toHaveText('Waiting for approval');
  // Waiting is said once, in the link that opens the request.
  await expect(qa.getByTestId('status')).toHaveCount(1);
  await expect(qa.getByTestId('waiting')).toContainText(/ · [0-9a-f]{7} \(\d of \d\)$/);
  await expect(qa.getByTestId('waiting')).toHaveAttribute('href', /^\/approvals\?request=[0-9a-f-]{36}$/);
  // "Commits behind" is information, not an alarm: no red, no amber.
  expect(await qa.getByTestId('behind').evaluate(sameColourAs, 'text-slate-600')).toBe(true);
  // A cell reads at a glance; the whole cell opens its own page, from the keyboard too.
  const dev = page.getByRole('cell', { name: 'Orders API in Dev' });
  await expect(dev.getByTestId('status')).toHaveText(/^(Up|Checking|Deployed|Deploying)$/);
  await expect(dev.getByTestId('open')).toHaveAttribute('href', '/board/orders-api/dev');
  await dev.scrollIntoViewIfNeeded();
  const box = await dev.boundingBox();
  await page.mouse.click(box!.x + box!.width - 4, box!.y + box!.height - 4);
  await expect(page).toHaveURL(/\/board\/orders-api\/dev$/);
  await page.goBack();
  await openBoard(page, '/board', testInfo);
  await expect(page.getByRole('row', { name: 'Checkout UI' }).getByTestId('hotfix')).toContainText('hotfix/checkout-timeout: in Release, not merged into develop');
  // The demo's Mobile BFF is down in QA: a Critical ticket opens.
  const down = page.getByRole('cell', { name: 'Mobile BFF in QA' });
  await expect(async () => {
    await openBoard(page, '/board?team=mobile', testInfo);
    await expect(down.getByTestId('health')).toContainText('Down', { timeout: 1_000 });
    await expect(down.getByTestId('ticket')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  // Down is said first, in words, with its ticket, before anything else in the cell.
  await expect(down.getByTestId('health')).toHaveText(/^Down( for [^·]+)?( · .+)?$/);
  const top = down.locator(':scope > *');
  await expect(top.nth(0)).toHaveAttribute('data-testid', 'health');
  await expect(top.nth(1)).toHaveAttribute('data-testid', 'ticket');
});

test('on a phone each service is one line with its worst status, opened on demand', async ({ page }, testInfo) => {
  await openBoard(page, '/board?team=mobile', testInfo);
  await page.setViewportSize({ width: 390, height: 844 });
  const row = page.getByRole('row', { name: 'Mobile BFF' });
  await expect(row.getByTestId('worst')).toHaveText(/^(Down|Failed|Waiting for approval|Deploying) in (Dev|Stage|Release|QA|Pre-Prod|Prod)$/);
  const qa = page.locator('td[aria-label="Mobile BFF in QA"]');
  await expect(qa).toBeHidden();
  await row.getByRole('checkbox', { name: 'All environments of Mobile BFF' }).check();
  await expect(qa).toBeVisible();
  await expect(page.locator('td[aria-label="iOS app in QA"]')).toBeHidden();
  // On a wide screen every cell shows and the phone's line does not.
  await page.setViewportSize({ width: 1366, height: 900 });
  await expect(page.locator('td[aria-label="iOS app in QA"]')).toBeVisible();
  await expect(row.getByTestId('worst')).toBeHidden();
});

test('filters live in the URL and work without JavaScript', async ({ page }, testInfo) => {
  await openBoard(page, '/board', testInfo);
  await page.getByLabel('Team').selectOption('backend');
  await page.getByRole('checkbox', { name: 'Only waiting' }).check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/team=backend/);
  await expect(page).toHaveURL(/waiting=1/);
  await expect(page.getByTestId('board-range')).toHaveText('Services 1–4 of 4 matching (10 in all)');
  await expect(page.getByRole('rowgroup', { name: 'Mobile' })).toHaveCount(0);
});

test('a compact density is kept in the URL across filters', async ({ page }, testInfo) => {
  await openBoard(page, '/board', testInfo);
  const density = page.getByRole('navigation', { name: 'Density' });
  await expect(density.getByRole('link', { name: 'Comfortable' })).toHaveAttribute('aria-current', 'page');
  await density.getByRole('link', { name: 'Compact' }).click();
  await expect(page).toHaveURL(/density=compact/);
  await expect(page.locator('table.board.compact')).toBeVisible();
  await expect(density.getByRole('link', { name: 'Compact' })).toHaveAttribute('aria-current', 'page');
  await page.getByLabel('Team').selectOption('mobile');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/team=mobile/);
  await expect(page).toHaveURL(/density=compact/);
  await expect(page.locator('table.board.compact')).toBeVisible();
  await density.getByRole('link', { name: 'Comfortable' }).click();
  await expect(page).toHaveURL(/team=mobile/);
  await expect(page).not.toHaveURL(/density/);
  await expect(page.locator('table.board.compact')).toHaveCount(0);
});

test('an approval given in another browser appears on the board without a reload', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'js', 'live updates need JavaScript');
  await openBoard(page, '/board?team=mobile', testInfo);
  const cell = page.getByRole('cell', { name: 'Android app in Stage' });
  await expect(cell.getByTestId('waiting')).toContainText('0 of 1');
  await page.evaluate(() => { (window as unknown as { boardMarker: boolean }).boardMarker = true; });

  // An SRE approves in a browser of their own.
  const other = await browser.newContext();
  const sre = await other.newPage();
  await open(sre, '/demo/sign-in', testInfo);
  await sre.getByRole('button', { name: 'Sign in as Sam Okafor' }).click();
  await expect(sre.getByTestId('current-user')).toHaveText('Sam Okafor');
  await open(sre, '/approvals', testInfo);
  const card = sre.getByRole('article', { name: 'Android app to Stage' });
  await card.getByText('Review and decide').click();
  for (const t of ['Integration', 'API', 'UI', 'System']) {
    await card.getByRole('group', { name: `${t} testing` }).getByRole('radio', { name: 'Passed' }).check();
  }
  await card.getByRole('button', { name: 'Approve Android app to Stage' }).click();
  await expect(sre.getByText('Approved. CodePipeline has the decision.')).toBeVisible();
  await other.close();

  await expect(cell.getByTestId('waiting')).toHaveCount(0, { timeout: 10_000 });
  expect(await page.evaluate(() => (window as unknown as { boardMarker?: boolean }).boardMarker)).toBe(true);
});

test('a cell opens its own page: every action of its run, the missing commits, health', async ({ page }, testInfo) => {
  await openBoard(page, '/board?team=backend', testInfo);
  const qa = page.getByRole('cell', { name: 'Orders API in QA' });
  await qa.getByRole('link', { name: /open Orders API in QA$/ }).click();
  await expect(page).toHaveURL(/\/board\/orders-api\/qa$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Orders API in QA');
  await expect(page).toHaveTitle('Orders API in QA · Gatehouse');
  await expect(page.getByTestId('status')).toHaveText('Waiting for approval');
  const run = page.getByRole('table', { name: 'Actions of the run and how each went' });
  await expect(run.getByRole('row', { name: /Approval/ })).toContainText('waiting');
  await expect(run.getByRole('row', { name: /Build/ })).toContainText('succeeded');
  // Demo runs are simulated: no link leads to an AWS console that has no such run.
  await expect(page.locator('a[href*="console.aws.amazon.com"]')).toHaveCount(0);
  await expect(page.getByTestId('behind')).toContainText('2 commits behind Release');
  await expect(page.getByRole('region', { name: 'Missing commits' }).getByRole('listitem')).toHaveCount(2);
  await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Board' }).click();
  await expect(page).toHaveURL(/\/board\?service=orders-api$/);
  // A cell that does not exist says so, with a 404.
  const missing = await page.request.get('/board/orders-api/nowhere');
  expect(missing.status()).toBe(404);
});

test('a cell\'s Review link opens its request first on the Approvals page', async ({ page }, testInfo) => {
  await openBoard(page, '/board?team=backend', testInfo);
  const link = page.getByRole('cell', { name: 'Orders API in QA' }).getByTestId('waiting');
  const commit = ((await link.textContent()) ?? '').match(/ · ([0-9a-f]{7}) \(/)?.[1];
  await link.click();
  await expect(page).toHaveURL(/\/approvals\?request=[0-9a-f-]{36}$/);
  const followed = page.getByRole('region', { name: 'The request you followed' });
  const card = followed.getByRole('article', { name: 'Orders API to QA' });
  await expect(card).toBeVisible();
  await expect(card).toContainText(commit ?? 'no commit');
});

test('the summary leads with the exception: its counts equal the cells, and each count is a filter', async ({ page }, testInfo) => {
  await openBoard(page, '/board', testInfo);
  // Read at one moment: a live update may change both together.
  const read = () => page.evaluate(() => {
    const text = (id: string) => document.querySelector(`[data-testid="summary-${id}"]`)?.textContent ?? '';
    const cells = (status: string) => document.querySelectorAll(`table.board td[data-status="${status}"]`).length;
    return {
      summary: [text('down'), text('failed'), text('waiting')],
      cells: [`${cells('down')} down`, `${cells('failed')} failed`, `${cells('waiting')} waiting`],
    };
  });
  await expect(async () => {
    const { summary, cells } = await read();
    expect(summary.map((s) => s.replace(/ \(filter on.*$/, ''))).toEqual(cells);
  }).toPass({ timeout: 15_000 });
  const { cells } = await read();
  expect(cells.join(' ')).toMatch(/^[1-9]\d* down /);
  // Down cells are the board's only red.
  expect(await page.locator('table.board td[data-status="down"] .downhd').first().evaluate(sameColourAs, 'bg-rose-700')).toBe(true);
  const redElsewhere = await page.locator('table.board td:not([data-status="down"]):not([data-status="failed"]) *').evaluateAll((els) => {
    const probe = document.createElement('span');
    probe.className = 'text-rose-700';
    document.body.appendChild(probe);
    const red = getComputedStyle(probe).color;
    probe.remove();
    return els.filter((el) => getComputedStyle(el).color === red).map((el) => el.closest('td')?.getAttribute('aria-label'));
  });
  expect(redElsewhere, 'only down and failed cells are red').toEqual([]);
  // A count filters the board to the services it counts, and off again.
  await page.getByTestId('summary-down').click();
  await expect(page).toHaveURL(/down=1/);
  await expect(page.getByTestId('summary-down')).toHaveAttribute('aria-current', 'true');
  const rows = page.locator('table.board tr.svc');
  const count = await rows.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    await expect(rows.nth(i).locator('td[data-status="down"]')).not.toHaveCount(0);
  }
  await page.getByTestId('summary-down').click();
  await expect(page).not.toHaveURL(/down=1/);
});

test('compact is one line per cell', async ({ page }, testInfo) => {
  await openBoard(page, '/board?density=compact', testInfo);
  // One line: every part of a cell shown overlaps every other vertically
  // (none starts below where another ends).
  const stacked = await page.locator('table.board.compact td').evaluateAll((tds) =>
    tds.filter((td) => {
      const parts = Array.from(td.children).filter((c) => c.getClientRects().length > 0).map((c) => c.getBoundingClientRect());
      if (parts.length < 2) return false;
      return Math.max(...parts.map((r) => r.top)) >= Math.min(...parts.map((r) => r.bottom));
    }).map((td) => td.getAttribute('aria-label')));
  expect(stacked, 'cells drawn on more than one line').toEqual([]);
  // And the rows are short: a service is at most two lines of text tall.
  const rows = await page.locator('table.board.compact tr.svc').evaluateAll((trs) => Math.max(...trs.map((tr) => tr.getBoundingClientRect().height)));
  expect(rows).toBeLessThanOrEqual(150);
});
