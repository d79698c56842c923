import { defineConfig } from '@playwright/test';

/** Where test/e2e/argo-rollouts.spec.ts runs its Kubernetes API double. */
export const ARGO_DOUBLE_PORT = 47631;

/**
 * Browser tests against the running app, in Debian's Chromium (Playwright cannot download its own
 * browsers here). Playwright starts `yarn start` itself and stops it afterwards; a developer's app
 * already running on :3000 is reused outside CI.
 */
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [
    ['list'],
    ['json', { outputFile: process.env.E2E_JSON_REPORT ?? 'e2e-test-report/results.json' }],
  ],
  webServer: {
    command: 'node .yarn/releases/yarn-4.13.0.cjs start',
    url: 'http://localhost:3000',
    reuseExistingServer: !process.env.CI,
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
    // The Argo Rollouts spec's Kubernetes API double listens here (no cluster runs on this machine).
    env: {
      APP_CONFIG_releases_argoRollouts: JSON.stringify({
        cluster: { url: `http://127.0.0.1:${ARGO_DOUBLE_PORT}`, serviceAccountToken: 'e2e-token' },
        namespace: 'shop',
      }),
    },
  },
  use: {
    baseURL: process.env.PLAYWRIGHT_URL ?? 'http://localhost:3000',
    screenshot: 'only-on-failure',
    viewport: { width: 1400, height: 1000 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  outputDir: 'node_modules/.cache/e2e-test-results',
});
