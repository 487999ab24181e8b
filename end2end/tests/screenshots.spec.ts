import { test } from '@playwright/test';
import { open } from './helpers';

// Not assertions: pictures of every page at desktop and phone widths, for
// people to look at (end2end/screenshots/).
const pages = ['/', '/board', '/board?team=mobile&down=1', '/board/mobile-bff/qa', '/environments', '/environments?team=backend', '/sign-in', '/demo/sign-in', '/calendar', '/calendar?team=mobile', '/approvals', '/approvals?tab=history', '/audit', '/notifications', '/inventory', '/delivery', '/prod-plan', '/prod-plan?team=mobile', '/release-demo', '/nowhere'];
const widths = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
  { name: 'projector', width: 1920, height: 1080 },
];
const personas = ['Priya Raman', 'Sam Okafor', 'Mei Tanaka', 'Morgan Lee', 'Alex Kim', 'Ada Admin'];

for (const size of widths) {
  test(`screenshots at ${size.name} width`, async ({ page }, testInfo) => {
    test.setTimeout(240_000);
    await page.setViewportSize({ width: size.width, height: size.height });
    const shoot = async (name: string) =>
      page.screenshot({ path: `screenshots/${size.name}-${name}.png`, fullPage: true });
    for (const path of pages) {
      await open(page, path, testInfo);
      await shoot(path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, ''));
    }
    // A phone shows the service as one line until it is opened.
    await open(page, '/board?team=mobile', testInfo);
    const all = page.getByRole('checkbox', { name: 'All environments of Mobile BFF' });
    if (await all.isVisible()) await all.check();
    await shoot('board-service-open');
    // Every persona's first screen, and the board and header as they see them.
    for (const persona of personas) {
      await open(page, '/demo/sign-in', testInfo);
      await page.getByRole('button', { name: `Sign in as ${persona}` }).click();
      await page.getByTestId('current-user').waitFor();
      const who = persona.split(' ')[0].toLowerCase();
      await shoot(`${who}-home`);
      await open(page, '/board', testInfo);
      await page.screenshot({ path: `screenshots/${size.name}-${who}-board-first-screen.png` });
    }
    // The menus open.
    const menu = page.getByTestId(size.width < 1024 ? 'phone-menu' : 'user-menu').locator('summary');
    await menu.click();
    await page.screenshot({ path: `screenshots/${size.name}-menu-open.png` });
    await open(page, '/demo/sign-in', testInfo);
    await page.getByRole('button', { name: 'Sign in as Sam Okafor' }).click();
    await page.getByTestId('current-user').waitFor();
    await open(page, '/approvals', testInfo);
    await shoot('signed-in-approvals');
    // The audit log as SRE sees it, its newest row opened.
    await open(page, '/audit', testInfo);
    await page.getByTestId('audit-row').first().locator('summary').click();
    await shoot('signed-in-audit');
    // A Prod card whose revision holds an unmerged hotfix: only Reject.
    const held = page.getByRole('article', { name: 'Checkout UI to Prod' });
    if (await held.count()) {
      await held.getByText('Review and decide').click();
      await held.scrollIntoViewIfNeeded();
      await shoot('approvals-held');
    }
    // A Prod card the Prod plan blocks: approving asks for a reason.
    await open(page, '/approvals?env=prod', testInfo);
    const blocked = page.getByRole('article', { name: 'Orders API to Prod' });
    if (await blocked.count()) {
      await blocked.getByText('Review and decide').click();
      await blocked.scrollIntoViewIfNeeded();
      await shoot('approvals-override');
    }
    await open(page, '/board?density=compact', testInfo);
    await shoot('board-compact');
    await open(page, '/demo/sign-in', testInfo);
    await page.getByRole('button', { name: 'Sign in as Priya Raman' }).click();
    await page.getByTestId('current-user').waitFor();
    await open(page, '/approvals', testInfo);
    // The QA sign-off: a control per test type, a reason once not applicable.
    const qa = page.getByRole('article').filter({ hasText: 'to QA' }).first();
    if (await qa.count()) {
      await qa.getByText('Review and decide').click();
      await qa.getByRole('radio', { name: 'Not applicable' }).first().check();
      await qa.scrollIntoViewIfNeeded();
      await shoot('qa-sign-off');
    }
    await open(page, '/demo/sign-in', testInfo);
    await page.getByRole('button', { name: 'Sign in as Morgan Lee' }).click();
    await page.getByTestId('current-user').waitFor();
    await open(page, '/calendar', testInfo);
    await shoot('manager-calendar');
    await open(page, '/calendar?move=1:release-demo', testInfo);
    await shoot('manager-calendar-move');
    await open(page, '/calendar?edit=2', testInfo);
    await page.screenshot({ path: `screenshots/${size.name}-manager-calendar-edit.png` });
  });
}

// Every page's first screen as each persona sees it (the full pages are
// above, signed out): one test per persona and width, so they share the
// workers.
const personaPages = pages.filter((p) => !p.includes('sign-in') && p !== '/nowhere');
for (const size of widths) {
  for (const persona of personas) {
    const who = persona.split(' ')[0].toLowerCase();
    test(`first screens of every page for ${who} at ${size.name} width`, async ({ page }, testInfo) => {
      test.setTimeout(120_000);
      await page.setViewportSize({ width: size.width, height: size.height });
      await open(page, '/demo/sign-in', testInfo);
      await page.getByRole('button', { name: `Sign in as ${persona}` }).click();
      await page.getByTestId('current-user').waitFor();
      for (const path of personaPages) {
        await open(page, path, testInfo);
        const name = path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'home';
        await page.screenshot({ path: `screenshots/personas/${size.name}-${who}-${name}.png` });
      }
    });
  }
}

test('screenshots of the presentation mode on a projector', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await open(page, '/release-demo?present=1', testInfo);
  await page.screenshot({ path: 'screenshots/projector-release-demo-1.png' });
  await open(page, '/release-demo?present=1&slide=2', testInfo);
  await page.screenshot({ path: 'screenshots/projector-release-demo-2.png' });
  await open(page, '/board', testInfo);
  await page.screenshot({ path: 'screenshots/projector-board.png' });
  await open(page, '/calendar', testInfo);
  await page.screenshot({ path: 'screenshots/projector-calendar.png' });
});
