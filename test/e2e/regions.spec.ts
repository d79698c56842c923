import { expect, test } from '@playwright/test';

const BACKEND = 'http://localhost:7007';

/*
 * A release across regions on the Releases tab: the demo's storefront runs in four simulated
 * regions (app-config.yaml, releases.simulator.regions). The grid shows the waves as columns and
 * every region live; a person's rollback brings every region back to the previous version.
 */
test.describe.serial('Region grid', () => {
  test.beforeEach(async ({ page }) => {
    // The guest signs in once the catalog has ingested the org (the backend may still be starting).
    await expect
      .poll(
        async () => {
          const res = await page.request.get(`${BACKEND}/api/auth/guest/refresh`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } }).catch(() => undefined);
          return res?.ok() ? (await res.json()).backstageIdentity.identity.ownershipEntityRefs : [];
        },
        { timeout: 180_000 },
      )
      .toContain('group:default/team-checkout');
    await page.goto('/');
    await page.getByRole('button', { name: 'Enter' }).click();
    await expect(page.getByRole('heading', { name: 'Release Pilot demo Catalog' })).toBeVisible();
  });

  test('a release of storefront goes region by region, live, and a rollback brings every region back', async ({ page }) => {
    test.setTimeout(420_000);
    const version = '5.0.0';
    await page.goto('/catalog/default/component/storefront/releases');
    await expect(page.getByRole('heading', { name: 'storefront', exact: true })).toBeVisible();
    const start = page.getByRole('button', { name: 'Start release' });
    await expect(start).toBeEnabled({ timeout: 120_000 });
    await start.click();
    await page.getByLabel('version').fill(version);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByText(`Current release: ${version}`)).toBeVisible();

    const grid = page.getByTestId('region-grid');
    await expect(grid).toContainText('4 regions in 3 waves');
    await expect(page.getByTestId('region-order')).toContainText('first: the lowest traffic relative to its daily average');
    // Waves as columns: one region first, then two, then the last.
    await expect(page.getByTestId('wave-1').getByTestId(/^region-/)).toHaveCount(1);
    await expect(page.getByTestId('wave-2').getByTestId(/^region-/)).toHaveCount(2);
    // Live, without reloading: the first region's canary takes traffic, then the second wave starts
    // once the first region succeeded (its steps, watch and promotion: about a minute).
    await expect(page.getByTestId('wave-1')).toContainText(`canary ${version} at`, { timeout: 60_000 });
    await expect(page.getByTestId('wave-2')).toContainText(`canary ${version} at`, { timeout: 150_000 });
    await expect(page.getByTestId('wave-1')).toContainText(`succeeded`);
    await expect(page.getByTestId('wave-1')).toContainText(`stable ${version}`);
    await expect(grid).toContainText('wave 2 of 3');
    if (process.env.RELEASE_PILOT_REGIONS_SCREENSHOT) {
      await page.waitForTimeout(1500);
      await page.screenshot({ path: process.env.RELEASE_PILOT_REGIONS_SCREENSHOT, fullPage: true });
    }

    // Roll back everywhere: the promoted region too, so that no region is left on the new version.
    await page.getByRole('button', { name: 'Rollback' }).click();
    await page.getByLabel('reason').fill('region test clean-up');
    await page.getByRole('button', { name: 'Roll back now' }).click();
    await expect(page.getByText(`Latest release: ${version}`)).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('release-state').first()).toHaveText('rolled back');
    await expect(page.getByTestId('wave-1')).not.toContainText(`stable ${version}`, { timeout: 60_000 });
    await expect(page.getByTestId('wave-2')).not.toContainText(`stable ${version}`);
  });
});
