import { expect, test } from '@playwright/test';
import { open } from './helpers';

test('the Metrics page measures the Prod history per team, release by release, with a CSV', async ({ page }, testInfo) => {
  // Demo mode reads each Prod pipeline's earlier runs, then their commits, within a few poller passes.
  await expect
    .poll(
      async () => {
        await open(page, '/delivery', testInfo);
        const unread = await page.getByText('still being read from GitHub').count();
        const empty = await page.getByTestId('no-history').count();
        return unread + empty;
      },
      { timeout: 60_000 },
    )
    .toBe(0);
  await expect(page.getByRole('heading', { level: 1, name: 'Delivery metrics' })).toBeVisible();
  // A card per team and one for all teams, each with a band in words.
  const cards = page.getByTestId('team-card');
  await expect(cards).toHaveCount(4);
  await expect(cards.filter({ hasText: 'All teams' })).toContainText(/Elite|High|Medium|Low/);
  // Four charts, each an image with a name, and their legend in words.
  await expect(page.getByTestId('charts').getByRole('img')).toHaveCount(4);
  await expect(page.getByRole('img', { name: /lead time for changes/i })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Lines' })).toContainText('BackEnd');
  // The table: every team and service, numbers in words.
  const table = page.getByRole('table', { name: /four measures per team and service/ });
  await expect(table.getByRole('row', { name: /Team: BackEnd/ })).toContainText(/a (day|week|month)/);
  await expect(table.getByRole('row', { name: /Service: Orders API/ })).toBeVisible();

  // A team and a window, kept in the address.
  await page.getByRole('link', { name: 'Last 30 days' }).click();
  await expect(page).toHaveURL(/days=30/);
  await page.getByRole('link', { name: 'Mobile', exact: true }).click();
  await expect(page).toHaveURL(/days=30.*team=mobile|team=mobile.*days=30/);
  await expect(page.getByTestId('team-card')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Teams and services, last 30 days' })).toBeVisible();

  // The CSV export of what the page shows.
  const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
  expect(href).toContain('/delivery/export.csv?days=30&team=mobile');
  const csv = await page.request.get(href!);
  expect(csv.ok()).toBeTruthy();
  expect(csv.headers()['content-type']).toContain('text/csv');
  const lines = (await csv.text()).trim().split('\r\n');
  expect(lines[0]).toMatch(/^scope,id,name,team,window_days,deployments/);
  expect(lines[1]).toMatch(/^team,mobile,Mobile,Mobile,30,/);
});
