import { test, expect } from '@playwright/test';
import { open } from './helpers';

const seed = [
  { name: 'Dev', branches: ['feature/*', 'develop'], trigger: 'On commit', down: 'May be down', tests: ['Unit', 'Regression'] },
  { name: 'Stage', branches: ['develop'], trigger: 'Manual approval', down: 'Calculate downtime', tests: ['Integration', 'API'] },
  { name: 'Release', branches: ['hotfix/*', 'release/*'], trigger: 'On commit, after code freeze', down: 'Raise a Critical ticket', tests: ['System'] },
  { name: 'QA', branches: ['release/*'], trigger: 'Manual approval, after code freeze', down: 'Raise a Critical ticket', tests: ['QA'] },
  { name: 'Pre-Prod', branches: ['master', 'tags/*'], trigger: 'Manual', down: 'Raise a Critical ticket', tests: [] },
  { name: 'Prod', branches: ['master', 'tags/*'], trigger: 'Manual', down: 'Raise a Critical ticket', tests: [] },
];

test('the Environments page shows all six environments with their branches and policies', async ({ page }, testInfo) => {
  await open(page, '/environments', testInfo);
  await expect(page).toHaveTitle('Environments · Gatehouse');
  await expect(page.getByRole('heading', { level: 1, name: 'Environments' })).toBeVisible();
  const articles = page.getByRole('article');
  await expect(articles).toHaveCount(6);
  for (const [index, env] of seed.entries()) {
    const article = articles.nth(index);
    await expect(article.getByRole('heading', { level: 3 })).toHaveText(env.name);
    const branches = article.getByRole('list', { name: 'Branches' }).getByRole('listitem');
    await expect(branches).toHaveText(env.branches);
    await expect(article.getByText(env.trigger, { exact: true })).toBeVisible();
    await expect(article.getByText(env.down, { exact: true })).toBeVisible();
    for (const t of env.tests) {
      await expect(article.getByRole('list', { name: 'Test types' }).getByText(t, { exact: true })).toBeVisible();
    }
  }
  await expect(page.getByRole('note', { name: 'Demo mode' })).toContainText('DEMO');
});

test('the team filter shows one team and lives in the URL', async ({ page }, testInfo) => {
  await open(page, '/environments', testInfo);
  const teams = page.getByRole('navigation', { name: 'Team' });
  await expect(teams.getByRole('link', { name: 'All teams' })).toHaveAttribute('aria-current', 'page');
  await teams.getByRole('link', { name: 'Mobile' }).click();
  await expect(page).toHaveURL(/\/environments\?team=mobile$/);
  await expect(teams.getByRole('link', { name: 'Mobile' })).toHaveAttribute('aria-current', 'page');
  const services = page.getByRole('region', { name: 'Mobile services' });
  await expect(services.getByRole('rowheader', { name: 'iOS app' })).toBeVisible();
  await expect(services.getByRole('rowheader', { name: 'Orders API' })).toHaveCount(0);
  await expect(page.getByRole('article')).toHaveCount(6);
});

test('an unknown team is explained in words', async ({ page }, testInfo) => {
  const response = await page.goto('/environments?team=web');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('alert')).toContainText('There is no team “web”. Teams are: frontend, backend, mobile.');
  if (testInfo.project.name === 'js') {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
});

test('the main navigation and skip link work from the keyboard', async ({ page }, testInfo) => {
  await open(page, '/environments', testInfo);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  const nav = page.getByRole('navigation', { name: 'Main' });
  // Environments is under "More", which says so.
  const more = nav.locator('summary');
  await expect(more).toHaveAttribute('data-current', '');
  await more.focus();
  await page.keyboard.press('Enter');
  await expect(nav.getByRole('link', { name: 'Environments' })).toHaveAttribute('aria-current', 'page');
  await nav.getByRole('link', { name: 'Audit' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  // Signed out, the audit log asks who you are first.
  await expect(page.getByRole('alert')).toContainText('Please sign in first.');
});
