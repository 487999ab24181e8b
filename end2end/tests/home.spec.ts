import { test, expect, type Page } from '@playwright/test';
import { open, signIn } from './helpers';

// Each persona lands, after signing in, on the page that answers their
// question first: the home page, its lead section their role's.
const personas: [string, string, string][] = [
  ['Priya Raman', 'What waits for my sign-off?', 'home-approvals'],
  ['Sam Okafor', 'Is anything down?', 'home-health'],
  ['Morgan Lee', 'When does this release reach Prod, and what blocks it?', 'home-prod'],
  ['Alex Kim', 'What will the Release demo show?', 'home-demo'],
  ['Mei Tanaka', 'How are my team\u2019s services?', 'home-team'],
  ['Ada Admin', 'Is the record intact?', 'home-admin'],
];

for (const [name, question, section] of personas) {
  test(`${name} lands on the answer to their question`, async ({ page }, testInfo) => {
    await signIn(page, name, testInfo);
    await expect(page).toHaveURL(/\/$/);
    const lead = page.getByRole('main').getByRole('heading', { level: 2 }).first();
    await expect(lead).toHaveText(question);
    await expect(page.getByTestId(section).getByRole('heading', { level: 2 })).toHaveText(question);
  });
}

test('QA is shown the requests they may decide, each opening its card', async ({ page }, testInfo) => {
  await signIn(page, 'Priya Raman', testInfo);
  const waiting = page.getByTestId('home-approvals');
  await expect(async () => {
    await open(page, '/', testInfo);
    await expect(waiting.getByRole('listitem').first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  const first = waiting.getByRole('listitem').first().getByRole('link');
  await expect(first).toHaveText(/ to (Dev|Stage|Release|QA|Pre-Prod|Prod)$/);
  await expect(first).toHaveAttribute('href', /^\/approvals\?request=[0-9a-f-]{36}$/);
  // The strip's count is the number waiting for her.
  await expect(page.getByTestId('home-waiting')).toContainText('Waiting for you');
});

test('SRE sees what is down, the same count as the header and the board', async ({ page }, testInfo) => {
  await signIn(page, 'Sam Okafor', testInfo);
  // The demo's Mobile BFF is down in QA once the first probes settle.
  await expect(async () => {
    await open(page, '/', testInfo);
    await expect(page.getByTestId('home-health').getByRole('link', { name: 'Mobile BFF in QA' })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  const down = Number((await page.getByTestId('home-down').locator('.st').textContent())?.trim());
  expect(down).toBeGreaterThan(0);
  await expect(page.getByTestId('home-health').getByRole('listitem')).toHaveCount(down);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByTestId('nav-count-down')).toHaveText(`${down} down`);
  await page.getByTestId('home-down').click();
  await expect(page).toHaveURL(/\/board\?down=1$/);
  await expect(page.getByTestId('summary-down')).toContainText(`${down} down`);
});

test('a manager sees the Prod release and what blocks it; a stakeholder the demo\'s changes; a developer their team\'s board', async ({ page }, testInfo) => {
  await signIn(page, 'Morgan Lee', testInfo);
  await expect(page.getByTestId('home-prod')).toContainText(/Release \d{4}\.\d{2}/);
  await expect(page.getByTestId('home-prod-progress')).toHaveText(/^\d+ of \d+ changed services? in Prod$/);
  await signIn(page, 'Alex Kim', testInfo);
  await expect(page.getByTestId('home-demo-counts')).toContainText(/^\d+ changes? in Release, not yet in Prod: FrontEnd \d+, BackEnd \d+, Mobile \d+\./);
  await expect(page.getByTestId('home-demo').getByRole('listitem').first()).toBeVisible();
  await signIn(page, 'Mei Tanaka', testInfo);
  const team = page.getByTestId('home-team');
  await team.getByRole('link', { name: 'Mobile board' }).click();
  await expect(page).toHaveURL(/\/board\?team=mobile$/);
});

/** The header's bottom edge, and the tops of the given links. */
async function headerShape(page: Page) {
  return page.evaluate(() => {
    const header = document.querySelector('header')!.getBoundingClientRect();
    const tops = Array.from(document.querySelectorAll('header nav[aria-label="Main"] > a, header nav[aria-label="Main"] > details > summary'))
      .filter((el) => el.getClientRects().length > 0)
      .map((el) => Math.round(el.getBoundingClientRect().top));
    return { height: header.height, tops };
  });
}

test('the header is one row on a desktop, at 1280 and 1920 px', async ({ page }, testInfo) => {
  await signIn(page, 'Sam Okafor', testInfo);
  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await open(page, '/board', testInfo);
    const { height, tops } = await headerShape(page);
    expect(height, `at ${width} px`).toBeLessThanOrEqual(56);
    expect(tops.length, 'five links and More').toBe(6);
    expect(new Set(tops).size, `one row at ${width} px: ${tops}`).toBe(1);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Approvals', 'Board', 'Calendar', 'Prod plan', 'Release demo']) {
      await expect(nav.getByRole('link', { name: new RegExp(`^${name}`) })).toBeInViewport();
    }
    await expect(page.getByTestId('current-user')).toBeInViewport();
  }
});

test('on a phone the header is one bar, and its menu offers every page', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'Sam Okafor', testInfo);
  await open(page, '/board', testInfo);
  const box = await page.locator('header').boundingBox();
  expect(box!.height).toBeLessThanOrEqual(56);
  await page.getByTestId('phone-menu').locator('summary').click();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Approvals', 'Board', 'Calendar', 'Prod plan', 'Release demo', 'Environments', 'Metrics', 'Audit', 'Inventory', 'Notifications']) {
    await expect(nav.getByRole('link', { name: new RegExp(`^${name}`) })).toBeInViewport({ ratio: 1 });
  }
  await nav.getByRole('link', { name: 'Calendar' }).click();
  await expect(page).toHaveURL(/\/calendar$/);
});

test('a stakeholder is not offered the audit log; QA is', async ({ page }, testInfo) => {
  await signIn(page, 'Alex Kim', testInfo);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.locator('summary').click();
  await expect(nav.getByRole('link', { name: 'Environments' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Audit' })).toHaveCount(0);
  await signIn(page, 'Priya Raman', testInfo);
  await nav.locator('summary').click();
  await expect(nav.getByRole('link', { name: 'Audit' })).toBeVisible();
});

test('someone not signed in is shown the overview and asked to sign in for theirs', async ({ page }, testInfo) => {
  await open(page, '/', testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Gatehouse');
  await expect(page.getByTestId('home-approvals')).toContainText('Sign in');
  await expect(page.getByTestId('home-waiting')).toContainText('Waiting for a decision');
});

test('the header\'s menus close on Escape and on a click outside', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'js', 'without JavaScript a menu closes with a second click on it');
  await signIn(page, 'Sam Okafor', testInfo);
  const more = page.getByRole('navigation', { name: 'Main' }).locator('details');
  await more.locator('summary').click();
  await expect(more).toHaveAttribute('open', '');
  await page.keyboard.press('Escape');
  await expect(more).not.toHaveAttribute('open');
  await more.locator('summary').click();
  await page.getByRole('heading', { level: 1 }).click();
  await expect(more).not.toHaveAttribute('open');
});
