import { expect, type Page, type TestInfo } from '@playwright/test';

/** Opens a page; with JavaScript on, waits until the app has hydrated. */
export async function open(page: Page, path: string, testInfo: TestInfo) {
  await page.goto(path);
  if (testInfo.project.name === 'js') {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
}
