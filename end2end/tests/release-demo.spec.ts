import { test, expect } from '@playwright/test';
import { open } from './helpers';

test('the Release demo view lists the Release-only commits by team, with health', async ({ page }, testInfo) => {
  // The poller records what Release and Prod run within seconds of start.
  await expect(async () => {
    await open(page, '/release-demo', testInfo);
    await expect(page.getByText(/^39 changes deployed in Release that Prod does not run yet/)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('In Release, not yet in Prod');
  const frontend = page.getByRole('region', { name: 'FrontEnd' });
  const storefront = frontend.getByRole('listitem', { name: 'Storefront web' });
  await expect(storefront).toContainText('on release/2027.01');
  await expect(storefront.getByRole('listitem')).toHaveCount(4);
  const checkout = frontend.getByRole('listitem', { name: 'Checkout UI' });
  await expect(checkout).toContainText('Hotfix: raise the payment provider timeout to 30 s (#412)');
  await expect(page.getByRole('status', { name: 'Release health' })).toContainText('up');
});

test('the Release demo view never reloads itself unless a kiosk URL asks it to', async ({ page }, testInfo) => {
  await open(page, '/release-demo', testInfo);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Refresh' })).toHaveAttribute('href', '/release-demo');
  await open(page, '/release-demo?refresh=60', testInfo);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveAttribute('content', '60');
  await open(page, '/release-demo?refresh=1', testInfo);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0);
});
