import { test, expect } from '@playwright/test';
import { open } from './helpers';

test('a demo persona signs in and sees their name, then signs out', async ({ page }, testInfo) => {
  await open(page, '/environments', testInfo);
  await page.locator('header').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole('link', { name: 'Use a demo persona' }).click();
  await expect(page).toHaveURL(/\/demo\/sign-in$/);
  if (testInfo.project.name === 'js') {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
  await expect(page.getByRole('button', { name: /^Sign in as / })).toHaveCount(8);
  await page.getByRole('button', { name: 'Sign in as Priya Raman' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText('Priya Raman');
  await expect(page.getByText('QA', { exact: true }).first()).toBeVisible();

  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.locator('header').getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
});

test('a persona can be chosen with the keyboard', async ({ page }, testInfo) => {
  await open(page, '/demo/sign-in', testInfo);
  await page.getByRole('button', { name: 'Sign in as Mei Tanaka' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText('Mei Tanaka');
  await expect(page.getByText('Developer (mobile)')).toBeVisible();
});

test('signing in through the company\'s OpenID Connect provider ends signed in with the mapped role', async ({ page }, testInfo) => {
  await open(page, '/approvals', testInfo);
  await page.locator('header').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  // A real redirect to the provider (oauth2-mock-server) and back.
  await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('current-user')).toHaveText('Quinn Avery');
  await expect(page.getByText('QA', { exact: true }).first()).toBeVisible();
  await expect(page.getByText(/none of your teams or groups is mapped/)).toHaveCount(0);

  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.locator('header').getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
});
