import { expect, test } from '@playwright/test';
import { open } from './helpers';

test('the Inventory page shows each environment by AWS service and the drift between neighbours', async ({ page }, testInfo) => {
  // Demo mode reads its simulated Terraform backend within a few seconds of starting.
  await expect
    .poll(
      async () => {
        await open(page, '/inventory', testInfo);
        return page.getByTestId('state').filter({ hasText: 'Read' }).count();
      },
      { timeout: 30_000 },
    )
    .toBe(6);
  const table = page.getByRole('table', { name: /by AWS service/ });
  await expect(table.getByRole('row', { name: /^RDS/ })).toContainText('4');
  await expect(table.getByRole('columnheader', { name: 'Prod', exact: true })).toBeVisible();
  const stageRelease = page.getByTestId('drift').filter({ hasText: 'Stage and Release' });
  await expect(stageRelease).toContainText('In Stage, not in Release (1)');
  await expect(stageRelease).toContainText('aws_sqs_queue.experiments');
  await expect(page.getByTestId('drift').filter({ hasText: 'Release and QA' })).toContainText('The same resources');
  await expect(page.locator('body')).not.toContainText('demo-secret');
});
