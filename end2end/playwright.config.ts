import { defineConfig, devices } from '@playwright/test';

// The server is started by scripts/test.sh (demo mode, fresh database).
const baseURL = process.env.GATEHOUSE_E2E_URL ?? 'http://127.0.0.1:3100';

// Debian's chromium; Playwright never downloads a browser here.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  // No retries: a test that passes only sometimes is a failing test.
  retries: 0,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: { baseURL, trace: 'off', screenshot: 'only-on-failure' },
  projects: [
    {
      name: 'js',
      use: { ...devices['Desktop Chrome'], channel: undefined, javaScriptEnabled: true, launchOptions },
    },
    {
      name: 'no-js',
      use: { ...devices['Desktop Chrome'], channel: undefined, javaScriptEnabled: false, launchOptions },
      testIgnore: /screenshots\.spec\.ts/,
    },
  ],
});
