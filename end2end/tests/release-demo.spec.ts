import { test, expect } from '@playwright/test';
import { open } from './helpers';

test('the Release demo view lists the Release-only commits by team, with health', async ({ page }, testInfo) => {
  // The poller records what Release and Prod run within seconds of start.
  await expect(async () => {
    await open(page, '/release-demo', testInfo);
    await expect(page.getByText(/^\d+ changes \(39 commits\) deployed in Release that Prod does not run yet/)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('In Release, not yet in Prod');
  const frontend = page.getByRole('region', { name: 'FrontEnd' });
  const storefront = frontend.getByRole('listitem', { name: 'Storefront web' });
  await expect(storefront).toContainText(/on release\/\d{4}\.\d{2}/);
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

test('presentation mode fits a 1920x1080 projector in large type, grouped by change, and keeps the presenter\'s place', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  // The poller records what Release and Prod run within seconds of start.
  await expect(async () => {
    await open(page, '/release-demo?present=1', testInfo);
    await expect(page.getByRole('region', { name: /^FrontEnd/ }).first()).toContainText(/\d+ changes?/, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  // No app chrome, no demo banner: the page alone.
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await expect(page.getByRole('note', { name: 'Demo mode' })).toHaveCount(0);
  await expect(page.getByRole('status', { name: 'Release health' })).toContainText(/Release (is healthy|has \d+ services? down|is up where checked)/);

  const slides = page.getByRole('navigation', { name: 'Slides' });
  const position = await slides.getByText(/^Slide \d+ of \d+$/).innerText();
  const count = Number(position.split(' of ')[1]);
  // The demo's Release changes fit the first slide: a team is split only
  // when its changes do not fit a column, and every part names its total.
  expect(count, 'the demo\'s Release changes on one slide').toBe(1);
  for (let slide = 1; slide <= count; slide++) {
    if (slide > 1) {
      if (testInfo.project.name === 'js' && slide === 2) {
        await page.locator('body').press('PageDown');
      } else {
        await slides.getByRole('link', { name: 'Next →' }).click();
      }
      await expect(page).toHaveURL(new RegExp(`present=1&slide=${slide}`));
      await expect(slides.getByText(`Slide ${slide} of ${count}`)).toBeVisible();
    }
    // One screen: nothing to scroll, no text under 24 px.
    const fit = await page.evaluate(() => {
      const root = document.documentElement;
      let smallest = Infinity;
      let where = '';
      for (const el of Array.from(document.querySelectorAll('main *'))) {
        const own = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
        if (!own || el.getClientRects().length === 0) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < smallest) { smallest = size; where = (el.textContent ?? '').slice(0, 40); }
      }
      return { height: root.scrollHeight, width: root.scrollWidth, smallest, where };
    });
    expect(fit.height, `slide ${slide} height`).toBeLessThanOrEqual(1080);
    expect(fit.width, `slide ${slide} width`).toBeLessThanOrEqual(1920);
    expect(fit.smallest, `smallest text: "${fit.where}"`).toBeGreaterThanOrEqual(24);
  }

  // Grouped by change: each change is told once per team column, with the
  // services it reached, never as a list of commit SHAs.
  await expect(page.locator('main code')).toHaveCount(0);

  // Live updates refetch the presenter's own slide, not the first.
  if (testInfo.project.name === 'js' && count > 1) {
    await page.evaluate(() => window.dispatchEvent(new Event('gatehouse:refresh')));
    await page.waitForTimeout(1_500);
    await expect(slides.getByText(`Slide ${count} of ${count}`)).toBeVisible();
  }

  // Advancing on its own is opt-in and wraps round to the first slide.
  await open(page, '/release-demo?present=1', testInfo);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0);
  await open(page, `/release-demo?present=1&slide=${count}&advance=30`, testInfo);
  await expect(page.locator('meta[http-equiv="refresh"]')).toHaveAttribute('content', '30;url=/release-demo?present=1&slide=1&advance=30');
  await page.getByRole('link', { name: 'Stop advancing' }).click();
  await expect(page).toHaveURL(new RegExp(`present=1&slide=${count}$`));
  await page.getByRole('link', { name: 'Leave presentation' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});
