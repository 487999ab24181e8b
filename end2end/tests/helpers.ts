import { expect, type Page, type TestInfo } from '@playwright/test';

/** Opens a page; with JavaScript on, waits until the app has hydrated. */
export async function open(page: Page, path: string, testInfo: TestInfo) {
  await page.goto(path);
  if (testInfo.project.name === 'js') {
    const hydrated = page.locator('body[data-hydrated="true"]');
    try {
      await hydrated.waitFor({ state: 'attached', timeout: 15_000 });
    } catch {
      // Seen only on a freshly launched browser's first pages on a loaded
      // 2-core machine: the page's stylesheet and script never arrive. A
      // reload fetches them; a page that cannot hydrate still fails below.
      testInfo.annotations.push({ type: 'reloaded', description: `${path} did not hydrate in 15 s` });
      await page.reload();
    }
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  }
}
