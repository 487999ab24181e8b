import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { open, signIn } from './helpers';

// Every page, as every persona and someone not signed in, at desktop and
// phone widths, checked with axe-core: no serious or critical violation
// (WCAG 2.2 A and AA rules, and axe's best practices).
const viewers: [string, string | null][] = [
  ['anonymous', null],
  ['QA', 'Priya Raman'],
  ['SRE', 'Sam Okafor'],
  ['developer', 'Mei Tanaka'],
  ['manager', 'Morgan Lee'],
  ['stakeholder', 'Alex Kim'],
  ['admin', 'Ada Admin'],
];
const sizes = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];
const pages = [
  '/',
  '/environments',
  '/calendar',
  '/approvals',
  '/approvals?tab=history',
  '/board',
  '/board/mobile-bff/qa',
  '/release-demo',
  '/release-demo?present=1',
  '/calendar?move=1:code-freeze',
  '/calendar?edit=2',
  '/audit',
  '/notifications',
  '/inventory',
  '/delivery',
  '/prod-plan',
  '/prod-plan?team=mobile',
  '/sign-in',
  '/demo/sign-in',
];

for (const size of sizes) {
  for (const [viewer, name] of viewers) {
    test(`every page has no serious or critical accessibility violation for ${viewer} at ${size.name} width`, async ({ page }, testInfo) => {
      // axe-core runs inside the page, so it needs JavaScript; the markup it
      // checks is the server's, the same with JavaScript off.
      test.skip(testInfo.project.name === 'no-js', 'axe-core runs as a script in the page');
      test.setTimeout(180_000);
      await page.setViewportSize({ width: size.width, height: size.height });
      if (name) await signIn(page, name, testInfo);
      const found: string[] = [];
      for (const path of pages) {
        await open(page, path, testInfo);
        const results = await new AxeBuilder({ page })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
          .analyze();
        for (const v of results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
          const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
          found.push(`${path}: ${v.impact} ${v.id} (${v.nodes.length}×): ${v.help} — ${where}`);
        }
      }
      expect(found, found.join('\n')).toEqual([]);
    });
  }
}

test('on a phone every page keeps its text at 12 px or more, its tap targets at 24 px and nothing off-screen', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'no-js', 'axe-core runs as a script in the page');
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'Morgan Lee', testInfo);
  const found: string[] = [];
  for (const path of pages) {
    await open(page, path, testInfo);
    const seen = await page.evaluate(() => {
      const small: string[] = [];
      for (const el of Array.from(document.querySelectorAll('body *'))) {
        const own = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
        if (!own || el.getClientRects().length === 0 || el.closest('.sr-only')) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < 12) small.push(`${size}px "${(el.textContent ?? '').trim().slice(0, 30)}"`);
      }
      return { small: small.slice(0, 5), width: document.documentElement.scrollWidth };
    });
    if (seen.small.length) found.push(`${path}: text under 12 px: ${seen.small.join('; ')}`);
    if (seen.width > 390) found.push(`${path}: ${seen.width} px wide on a 390 px screen`);
    const results = await new AxeBuilder({ page }).withRules(['target-size']).analyze();
    for (const v of results.violations) {
      found.push(`${path}: ${v.id} (${v.nodes.length}×): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
    }
  }
  expect(found, found.join('\n')).toEqual([]);
});
