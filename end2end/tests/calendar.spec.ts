import { test, expect, type Page } from '@playwright/test';
import { open } from './helpers';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function monthTitle(offset: number): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** A date `days` from today: [value for a date input, "27 Nov 2026"]. */
function inDays(days: number): [string, string] {
  const d = new Date(Date.now() + days * 86_400_000);
  const iso = d.toISOString().slice(0, 10);
  return [iso, `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()].slice(0, 3)} ${d.getUTCFullYear()}`];
}

const monthHeading = (page: Page) => page.getByRole('heading', { level: 2, name: /^[A-Z][a-z]+ \d{4}$/ });

/** A month link or key loads a new page; its keys work once its islands have hydrated. */
const hydrated = (page: Page) => expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });

test('months turn with links and, with JavaScript, the arrow keys; teams filter by URL', async ({ page }, testInfo) => {
  await open(page, '/calendar', testInfo);
  await expect(monthHeading(page)).toHaveText(monthTitle(0));
  await expect(page.locator('td[aria-current="date"]')).toHaveCount(1);

  await page.getByRole('link', { name: 'Next month' }).click();
  await expect(monthHeading(page)).toHaveText(monthTitle(1));
  await expect(page).toHaveURL(/month=\d{4}-\d{2}/);

  if (testInfo.project.name === 'js') {
    await hydrated(page);
    await page.locator('body').press('ArrowLeft');
    await expect(monthHeading(page)).toHaveText(monthTitle(0));
    await hydrated(page);
    await page.locator('body').press('ArrowLeft');
    await expect(monthHeading(page)).toHaveText(monthTitle(-1));
    await page.getByRole('link', { name: 'Today' }).click();
    await expect(monthHeading(page)).toHaveText(monthTitle(0));
  } else {
    await page.getByRole('link', { name: 'Previous month' }).click();
    await expect(monthHeading(page)).toHaveText(monthTitle(0));
  }

  const team = page.getByRole('navigation', { name: 'Team' });
  await team.getByRole('link', { name: 'Mobile' }).click();
  await expect(page).toHaveURL(/team=mobile/);
  await expect(team.getByRole('link', { name: 'Mobile' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('link', { name: "Subscribe to Mobile's calendar (ICS)" })).toHaveAttribute('href', '/calendar/mobile.ics');
  await expect(page.getByRole('heading', { name: 'The next six releases · Mobile' })).toBeVisible();
  // The deep link keeps the team when the month turns.
  await page.getByRole('link', { name: 'Next month' }).click();
  await expect(page).toHaveURL(/month=\d{4}-\d{2}&team=mobile/);
});

test('a manager moves Mobile\'s code freeze and QA approvals close for Mobile', async ({ page }, testInfo) => {
  await open(page, '/demo/sign-in', testInfo);
  await page.getByRole('button', { name: 'Sign in as Morgan Lee' }).click();
  await expect(page.getByTestId('current-user')).toHaveText('Morgan Lee');

  await open(page, '/calendar?team=mobile', testInfo);
  const allowed = page.getByRole('region', { name: /What each environment allows today/ });
  const qa = allowed.getByRole('listitem', { name: 'QA' });
  await expect(qa).toBeVisible();

  // The page opens on this cycle's milestones; each has its Move link,
  // which opens a dialog over the page (in place, with JavaScript).
  const timeline = page.getByRole('list', { name: /^Milestones of release \d{4}\.\d{2}$/ });
  await expect(timeline.getByRole('listitem')).toHaveCount(5);
  const js = testInfo.project.name === 'js';
  if (js) {
    await hydrated(page);
    await page.evaluate(() => { (window as unknown as { stayed: boolean }).stayed = true; });
  }
  const demoLink = timeline.getByRole('link', { name: /^Move Release demo of release/ });
  await demoLink.click();
  let dialog = page.getByRole('dialog', { name: /^Move Release demo of release \d{4}\.\d{2}$/ });
  await expect(dialog).toBeVisible();
  await expect(page).toHaveURL(/move=1:release-demo/);
  if (js) {
    // Opened without loading the page; Escape closes it and the focus
    // goes back to the link.
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(demoLink).toBeFocused();
    await expect(page).not.toHaveURL(/move=/);
    await demoLink.click();
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel('New date')).toBeFocused();
  }
  const form = dialog.getByRole('form', { name: 'Move a milestone' });
  await expect(form.getByTestId('milestone-now')).toContainText('Mobile: ');
  const [demoDate] = inDays(3);
  await form.getByLabel('Team').selectOption('mobile');
  await form.getByLabel('New date').fill(demoDate);
  await form.getByLabel('Time (empty: all day)').fill('15:00');
  await form.getByLabel('Why (required)').fill('Demo after the later freeze');
  await form.getByRole('button', { name: 'Move milestone' }).click();
  // Accepted: the dialog closes and the page says so where it opens, with
  // the focus there.
  const outcome = page.getByTestId('form-outcome');
  await expect(outcome).toContainText(/Release demo of release \d{4}\.\d{2} for Mobile moved to/);
  await expect(outcome).toBeFocused();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page).not.toHaveURL(/move=/);
  await expect(page.getByText('Why: Demo after the later freeze').first()).toBeVisible();

  // Refused (the freeze after the demo): said inside the dialog, which
  // opens again with what was typed.
  const [freezeDate, freezeWords] = inDays(1);
  await timeline.getByRole('link', { name: /^Move Code freeze of release/ }).click();
  dialog = page.getByRole('dialog', { name: /^Move Code freeze of release/ });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Team').selectOption('mobile');
  await dialog.getByLabel('New date').fill(inDays(30)[0]);
  await dialog.getByLabel('Time (empty: all day)').fill('18:00');
  await dialog.getByLabel('Why (required)').fill('Too late');
  await dialog.getByRole('button', { name: 'Move milestone' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Code freeze would fall after');
  await expect(dialog.getByLabel('Why (required)')).toHaveValue('Too late');
  await dialog.getByLabel('New date').fill(freezeDate);
  await dialog.getByLabel('Why (required)').fill('App store review slipped');
  await dialog.getByRole('button', { name: 'Move milestone' }).click();
  await expect(outcome).toContainText(/Code freeze of release \d{4}\.\d{2} for Mobile moved to/);
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await expect(qa).toContainText(`Approvals open at code freeze on ${freezeWords}`);
  await expect(qa).toContainText('Closed');
  const history = page.getByRole('list', { name: 'Calendar changes' });
  await expect(history.getByText('Why: App store review slipped').first()).toBeVisible();

  await open(page, '/environments?team=mobile', testInfo);
  const qaRow = page.getByRole('article', { name: 'QA' });
  await expect(qaRow.getByTestId('allowance')).toContainText(`Approvals open at code freeze on ${freezeWords}`);
  await expect(qaRow.getByTestId('allowance')).toContainText('Closed');
});

test('a manager edits a release\'s dates in one dialog; only what changed moves', async ({ page }, testInfo) => {
  await open(page, '/demo/sign-in', testInfo);
  await page.getByRole('button', { name: 'Sign in as Morgan Lee' }).click();
  await expect(page.getByTestId('current-user')).toHaveText('Morgan Lee');
  // Each project edits its own release: the two share one server.
  const js = testInfo.project.name === 'js';
  const team = js ? 'frontend' : 'backend';
  await open(page, `/calendar?team=${team}`, testInfo);
  if (js) await hydrated(page);
  const rows = page.getByRole('region', { name: /^The next six releases/ }).getByRole('row');
  const row = rows.nth(js ? 3 : 4);
  const name = (await row.getByRole('rowheader').innerText()).split('\n')[0].trim();
  // One Edit dates per release, none per milestone.
  await expect(page.getByRole('region', { name: /^The next six releases/ }).getByRole('link', { name: /^Edit dates of release/ })).toHaveCount(6);
  await expect(page.getByRole('region', { name: /^The next six releases/ }).getByRole('link', { name: /^Move / })).toHaveCount(0);
  await row.getByRole('link', { name: `Edit dates of release ${name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Edit dates of release ${name}` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('listitem')).toHaveCount(6);
  const prodDate = dialog.getByLabel('Prod release: Date');
  const preDate = dialog.getByLabel('Pre-Prod: Date');
  const freeze = await dialog.getByLabel('Code freeze: Date').inputValue();
  const shift = (iso: string, days: number) => new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  const newProd = shift(await prodDate.inputValue(), 7);
  const newPre = shift(await preDate.inputValue(), 7);
  await prodDate.fill(newProd);
  await preDate.fill(newPre);
  await dialog.getByLabel('Why (required)').fill('Store review takes a week');
  await dialog.getByRole('button', { name: 'Save dates' }).click();
  const outcome = page.getByTestId('form-outcome');
  await expect(outcome).toContainText(`Release ${name} for ${js ? 'FrontEnd' : 'BackEnd'}: moved Pre-Prod to`);
  await expect(outcome).toContainText('Prod release to');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  // Opened again: the new dates, the rest as they were.
  await rows.nth(js ? 3 : 4).getByRole('link', { name: `Edit dates of release ${name}` }).click();
  await expect(dialog.getByLabel('Prod release: Date')).toHaveValue(newProd);
  await expect(dialog.getByLabel('Pre-Prod: Date')).toHaveValue(newPre);
  await expect(dialog.getByLabel('Code freeze: Date')).toHaveValue(freeze);
  await dialog.getByRole('link', { name: 'Close' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('the calendar feed is served as iCalendar', async ({ request }) => {
  const response = await request.get('/calendar.ics');
  expect(response.ok()).toBeTruthy();
  expect(response.headers()['content-type']).toContain('text/calendar');
  const text = await response.text();
  expect(text.startsWith('BEGIN:VCALENDAR')).toBeTruthy();
  expect(text).toContain('SUMMARY:Blackout: Company offsite');
});
