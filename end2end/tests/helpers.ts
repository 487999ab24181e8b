import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';

/** The CodePipeline simulator the test server uses. */
export const simulator = process.env.GATEHOUSE_E2E_SIMULATOR ?? 'http://127.0.0.1:3101';

/** Opens a page; with JavaScript on, waits until the app has hydrated. */
export async function open(page: Page, path: string, testInfo: TestInfo) {
  const problems: string[] = [];
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === 'error') problems.push(`console: ${m.text().slice(0, 300)}`);
  };
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) =>
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  const onError = (e: Error) => problems.push(`page error: ${e.message}`);
  page.on('console', onConsole);
  page.on('requestfailed', onFailed);
  page.on('pageerror', onError);
  try {
    await page.goto(path);
    if (testInfo.project.name === 'js') {
      // The debug WASM bundle is large; give a loaded 2-core machine time.
      try {
        await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
      } catch (err) {
        const csp = await page.evaluate(() => document.querySelector('script[nonce]')?.getAttribute('nonce') ?? 'no nonced script');
        throw new Error(`${path} did not hydrate (page nonce: ${csp}); the browser reported: ${problems.join(' | ') || 'nothing'}\n${err}`);
      }
    }
  } finally {
    page.off('console', onConsole);
    page.off('requestfailed', onFailed);
    page.off('pageerror', onError);
  }
}

/** Signs in as a demo persona on the persona page. */
export async function signIn(page: Page, name: string, testInfo: TestInfo) {
  await open(page, '/demo/sign-in', testInfo);
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  await expect(page.getByTestId('current-user')).toHaveText(name);
}

/** Runs every demo pipeline up to its approval stage (moves the simulator's clock). */
export async function runPipelinesToApproval(request: APIRequestContext) {
  const moved = await request.post(`${simulator}/_sim/clock`, { data: { advanceSeconds: 60 } });
  expect(moved.ok()).toBeTruthy();
}
