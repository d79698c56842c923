import { expect, Page, test } from '@playwright/test';

const BACKEND = 'http://localhost:7007';

/** Waits until the guest signs in as a member of team-checkout (the catalog has ingested the org). */
async function waitForOrg(page: Page) {
  await expect
    .poll(
      async () => {
        const res = await page.request
          .get(`${BACKEND}/api/auth/guest/refresh`, {
            headers: { 'X-Requested-With': 'XMLHttpRequest' },
          })
          .catch(() => undefined);
        if (!res?.ok()) return [];
        return (await res.json()).backstageIdentity.identity
          .ownershipEntityRefs;
      },
      { timeout: 180_000 },
    )
    .toContain('group:default/team-checkout');
}

/**
 * Waits until the demo history is stored. It is seeded only while the store is empty, so a release
 * started before it (the first test's) would leave search without the succeeded release that the
 * rollback button needs.
 */
async function waitForDemoHistory(page: Page) {
  await expect
    .poll(
      async () => {
        const refresh = await page.request.get(`${BACKEND}/api/auth/guest/refresh`, {
          headers: { 'X-Requested-With': 'XMLHttpRequest' },
        });
        const token = (await refresh.json()).backstageIdentity.token;
        const res = await page.request.get(
          `${BACKEND}/api/releases/releases?entityRef=component:default/search&limit=1`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        return res.ok() ? (await res.json()).totalCount : 0;
      },
      { timeout: 120_000 },
    )
    .toBeGreaterThan(0);
}

async function signIn(page: Page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  await expect(
    page.getByRole('heading', { name: 'Release Pilot demo Catalog' }),
  ).toBeVisible();
}

/** The Backstage token the app itself sends to the releases API. */
async function appToken(page: Page, url: string): Promise<string> {
  const request = page.waitForRequest(
    r => r.url().includes('/api/releases/') && !!r.headers().authorization,
  );
  await page.goto(url);
  return (await request).headers().authorization;
}

test.describe
  .serial('Ownership: who may act, who hears about it, and the team and org views', () => {
  test.beforeEach(async ({ page }) => {
    await waitForOrg(page);
    await waitForDemoHistory(page);
    await signIn(page);
  });

  test('an owner starts a release and rolls it back with the button, and the critical notification arrives', async ({
    page,
  }) => {
    // Unique per run, so a rerun against the same app counts only its own notification.
    const version = `7.0.${Date.now() % 1_000_000}`;
    await page.goto('/catalog/default/component/payments/releases');
    const start = page.getByRole('button', { name: 'Start release' });
    await expect(start).toBeEnabled({ timeout: 60_000 });
    await start.click();
    await page.getByLabel('version').fill(version);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByText(`Current release: ${version}`)).toBeVisible();
    await page.getByRole('button', { name: 'Rollback' }).click();
    await page.getByLabel('reason').fill('the pager went off');
    await page.getByRole('button', { name: 'Roll back now' }).click();
    await expect(page.getByTestId('release-state').first()).toHaveText(
      'rolled back',
      { timeout: 30_000 },
    );

    await page.goto('/notifications');
    const note = page.getByText(
      `Release of payments ${version} rolled back by user:default/guest`,
    );
    await expect(note).toBeVisible({ timeout: 30_000 });
    await expect(
      page.getByText(/Reason: .*the pager went off/).first(),
    ).toBeVisible();
    // One notification per release (its scope), not one per event.
    await expect(
      page.getByText(`Release of payments ${version}`, { exact: false }),
    ).toHaveCount(1);
  });

  test('a person who does not own the service sees every button disabled with the reason, and the API answers 403', async ({
    page,
  }) => {
    const authorization = await appToken(
      page,
      '/catalog/default/component/search/releases',
    );
    await expect(page.getByTestId('permission-note')).toHaveText(
      'Only its owners (group:default/team-discovery) and release admins may start, pause, promote or roll back its releases.',
      { timeout: 30_000 },
    );
    await expect(
      page.getByRole('button', { name: 'Start release' }),
    ).toBeDisabled();
    await expect(
      page.getByRole('button', { name: 'Roll back to the previous version' }),
    ).toBeDisabled();

    const headers = { authorization, 'content-type': 'application/json' };
    const latest = (
      await (
        await page.request.get(
          `${BACKEND}/api/releases/releases?entityRef=component:default/search&limit=1`,
          { headers },
        )
      ).json()
    ).items[0];
    const attempts = [
      await page.request.post(`${BACKEND}/api/releases/releases`, {
        headers,
        data: { entityRef: 'component:default/search', version: '9.9.9' },
      }),
      await page.request.post(
        `${BACKEND}/api/releases/releases/${latest.id}/rollback`,
        { headers, data: { reason: 'not mine' } },
      ),
    ];
    for (const res of attempts) {
      expect(res.status()).toBe(403);
      expect((await res.json()).error.message).toMatch(
        /^Not allowed: releases\.release\.(create|rollback) on component:default\/search$/,
      );
    }
    const after = await (
      await page.request.get(`${BACKEND}/api/releases/releases/${latest.id}`, {
        headers,
      })
    ).json();
    expect(after.state).toBe(latest.state);
  });

  test('the team tab shows the demo history with DORA figures and charts, for the team and its department', async ({
    page,
  }) => {
    await page.goto('/catalog/default/group/team-checkout/releases');
    await expect(page.getByTestId('dora-deployment-frequency')).toHaveText(
      /^\d+\.\d\d\/day$/,
      { timeout: 30_000 },
    );
    await expect(page.getByTestId('dora-change-failure-rate')).toHaveText(
      /^\d+\.\d%$/,
    );
    await expect(page.getByTestId('dora-time-to-restore')).toHaveText(
      /^\d+ s$/,
    );
    await expect(page.getByTestId('dora-lead-time')).toHaveText(
      /^\d+(\.\d)? h$/,
    );
    await expect(
      page
        .getByTestId('team-releases-chart')
        .locator('path.recharts-rectangle')
        .first(),
    ).toBeVisible();
    await expect(
      page.getByTestId('team-risk-chart').locator('.recharts-line'),
    ).toBeVisible();
    await expect(page.getByText(/^Release history \(\d+\)$/)).toBeVisible();
    await expect(
      page.getByRole('link', { name: 'checkout' }).first(),
    ).toBeVisible();
    if (process.env.RELEASE_PILOT_TEAM_SCREENSHOT) {
      await page.screenshot({
        path: process.env.RELEASE_PILOT_TEAM_SCREENSHOT,
        fullPage: true,
      });
    }
    // The department counts its child teams: search belongs to team-discovery.
    await page.goto('/catalog/default/group/shop-engineering/releases');
    await expect(
      page.getByText(/Releases of everything owned by shop-engineering, team-/),
    ).toBeVisible({ timeout: 30_000 });
    await expect(
      page.getByRole('link', { name: 'search' }).first(),
    ).toBeVisible();
  });

  test('the org page lists releases in progress, filters by owner, and offers rollback where allowed', async ({
    page,
  }) => {
    const authorization = await appToken(
      page,
      '/catalog/default/component/checkout/releases',
    );
    const headers = { authorization, 'content-type': 'application/json' };
    const version = `7.1.${Date.now() % 1_000_000}`;
    const slow = {
      steps: [
        { weight: 10, minDurationSeconds: 3600 },
        { weight: 100, minDurationSeconds: 3600 },
      ],
    };
    const created = await page.request.post(
      `${BACKEND}/api/releases/releases`,
      {
        headers,
        data: { entityRef: 'component:default/checkout', version, plan: slow },
      },
    );
    expect(created.status()).toBe(201);

    const id = (await created.json()).id;
    // Whatever happens below, leave no active release of checkout for the next tests.
    test.info().attach('release', { body: id });
    const cleanUp = async () => {
      await page.request
        .post(`${BACKEND}/api/releases/releases/${id}/rollback`, {
          headers,
          data: { reason: 'test clean-up' },
        })
        .catch(() => undefined);
    };
    try {
      await usePage();
    } finally {
      await cleanUp();
    }

    async function usePage() {
      await page.goto('/');
      await page.getByRole('link', { name: 'Releases' }).click();
      await expect(
        page.getByRole('heading', { name: 'Releases', exact: true }),
      ).toBeVisible();
      const row = page.getByRole('row').filter({ hasText: version });
      await expect(row).toBeVisible({ timeout: 30_000 });
      await expect(row).toContainText('team-checkout');
      const ownerFilter = page.getByRole('button', {
        name: 'owner',
        exact: true,
      });
      await ownerFilter.click();
      await page.getByRole('option', { name: 'team-discovery' }).click();
      await expect(
        page.getByText('No release in progress matches the filters.'),
      ).toBeVisible();
      await ownerFilter.click();
      await page.getByRole('option', { name: 'team-checkout' }).click();
      await row
        .getByRole('button', { name: 'roll back component:default/checkout' })
        .click();
      await page.getByRole('button', { name: 'Roll back now' }).click();
      await expect(
        page.getByText('No release in progress matches the filters.'),
      ).toBeVisible({ timeout: 30_000 });
      const done = await (
        await page.request.get(`${BACKEND}/api/releases/releases/${id}`, {
          headers,
        })
      ).json();
      expect(done.state).toBe('rolled_back');
    }
  });
});
