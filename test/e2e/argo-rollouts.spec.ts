import { expect, Page, test } from '@playwright/test';
import { ARGO_DOUBLE_PORT } from '../../playwright.config';
import { KubeApiDouble, pausedRollout } from '../../plugins/releases-backend-module-argo-rollouts/src/__testUtils__/KubeApiDouble';

/*
 * A team on Argo Rollouts: the product-pages's Rollout, paused at its second step, on its Releases tab,
 * and a Promote that reaches the cluster. No Kubernetes API server runs here: a double on
 * ARGO_DOUBLE_PORT answers for the Rollout, its ReplicaSets and AnalysisRun, and records each request
 * (the app's config points releases.argoRollouts at it, see playwright.config.ts).
 */

const ROLLOUT = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/product-pages';
let cluster: KubeApiDouble;

test.beforeAll(async () => {
  cluster = new KubeApiDouble();
  cluster.token = 'e2e-token';
  await cluster.start(ARGO_DOUBLE_PORT);
  pausedRollout(cluster, 'product-pages', 'shop');
});

test.afterAll(async () => {
  await cluster.stop();
});

async function openReleasesTab(page: Page) {
  await page.goto('/');
  const enter = page.getByRole('button', { name: 'Enter' });
  await expect(enter).toBeVisible({ timeout: 120_000 });
  await enter.click();
  await expect(page.getByRole('heading', { name: 'Release Pilot demo Catalog' })).toBeVisible();
  await page.goto('/catalog/default/component/product-pages/releases');
  const heading = page.getByRole('heading', { name: 'product-pages', exact: true });
  await expect(heading.or(enter)).toBeVisible();
  if (await enter.isVisible()) await enter.click();
  await expect(heading).toBeVisible();
}

test('the Releases tab shows a paused Argo Rollout in Release Pilot words, and Promote promotes it', async ({ page }) => {
  await openReleasesTab(page);
  const summary = page.getByTestId('argo-summary');
  await expect(summary).toHaveText(
    'Paused at step 2 of 5 with 20 % of traffic on the canary (registry.example.com/product-pages:2.1.0), until someone promotes it.',
    { timeout: 60_000 },
  );
  await expect(page.getByTestId('argo-steps')).toContainText('pause until someone promotes it');
  await expect(page.getByTestId('argo-stable')).toContainText('80 % of traffic');
  await expect(page.getByTestId('argo-stable')).toContainText('registry.example.com/product-pages:2.0.0');
  await expect(page.getByTestId('argo-canary')).toContainText('registry.example.com/product-pages:2.1.0');
  await expect(page.getByTestId('argo-analysis')).toContainText('success-rate: Running, 2 passed');
  await expect(page.getByTestId('argo-analysis')).toContainText('0.995 (Successful)');
  await expect(page.getByTestId('argo-retry')).toBeDisabled();
  if (process.env.RELEASE_PILOT_ARGO_SCREENSHOT) await page.screenshot({ path: process.env.RELEASE_PILOT_ARGO_SCREENSHOT, fullPage: true });

  const before = cluster.requests.filter(r => r.method === 'PATCH').length;
  const promote = page.getByTestId('argo-promote');
  await expect(promote).toBeEnabled();
  await promote.click();
  await expect(page.getByTestId('argo-message')).toHaveText("rollout 'product-pages' promoted");
  // What kubectl argo rollouts promote sends at a pause step: the pause conditions cleared on the status.
  expect(cluster.requests.filter(r => r.method === 'PATCH').slice(before)).toEqual([
    { method: 'PATCH', path: `${ROLLOUT}/status`, contentType: 'application/merge-patch+json', authorization: 'Bearer e2e-token', body: '{"status":{"pauseConditions":null}}' },
  ]);
  await expect(summary).toHaveText('Releasing registry.example.com/product-pages:2.1.0: step 2 of 5, 20 % of traffic on the canary.');
});
