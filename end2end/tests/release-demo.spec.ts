import { test, expect } from '@playwright/test';
import { open } from './helpers';

test('the Release demo view lists the Release-only commits by team', async ({ page }, testInfo) => {
  await open(page, '/release-demo', testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('In Release, not yet in Prod');
  const frontend = page.getByRole('region', { name: 'FrontEnd' });
  const storefront = frontend.getByRole('listitem', { name: 'Storefront web' });
  await expect(storefront).toContainText('release/2027.01');
  await expect(storefront.getByRole('listitem')).toHaveCount(2);
  await expect(page.getByText(/^20 changes on the release branches that master does not have/)).toBeVisible();
});
