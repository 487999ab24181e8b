import { expect, type Page, type TestInfo } from '@playwright/test';

/** Opens a page; with JavaScript on, waits until the app has hydrated. */
export async function open(page: Page, path: string, testInfo: TestInfo) {
  await page.goto(path);
  if (testInfo.project.name === 'js') {
    // The debug WASM bundle is large; give a loaded 2-core machine time.
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 45_000 });
  }
}
