// The install check's assertions against the scratch Backstage (started by check.sh): a simulated
// release succeeds through the API, and the Releases tab renders in Chromium with that release.
import { chromium } from '@playwright/test';

const base = process.env.SCRATCH_BASE;
const entityRef = 'component:default/scratch-service';
const version = `1.0.${Date.now() % 100000}`;

async function until(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`install check: timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

const started = Date.now();
await until('the scratch backend', async () => (await fetch(`${base}/api/releases/health`)).ok, 300_000);
console.log(`scratch backend up after ${Math.round((Date.now() - started) / 1000)} s`);
const { backstageIdentity } = await (
  await fetch(`${base}/api/auth/guest/refresh`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })
).json();
const api = async (path, init = {}) => {
  const res = await fetch(`${base}/api/releases${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${backstageIdentity.token}`, 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: await res.json() };
};

// The catalog reads its file location shortly after start.
const created = await until(
  'the release to be accepted',
  async () => {
    const res = await api('/releases', { method: 'POST', body: JSON.stringify({ entityRef, version }) });
    // 404 while the catalog has not read its file location yet; anything else is worth showing.
    if (res.status !== 201 && res.status !== 404) console.log(`POST /releases: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    return res.status === 201 ? res.body : undefined;
  },
  120_000,
);
const release = await until(
  'the release to finish',
  async () => {
    const { body } = await api(`/releases/${created.id}`);
    return ['succeeded', 'rolled_back', 'failed'].includes(body.state) ? body : undefined;
  },
  300_000,
);
console.log(`scratch release ${release.id}: ${entityRef} ${version} on the simulator target: ${release.state}`);
if (release.state !== 'succeeded') {
  console.log(JSON.stringify(release.timeline?.slice(-5), null, 1));
  process.exit(1);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/`);
    const enter = page.getByRole('button', { name: 'Enter' });
    await enter.click({ timeout: 120_000 });
    // Signed in once the sign-in page is gone; only then is the session there for the next page.
    await enter.waitFor({ state: 'detached', timeout: 60_000 });
    await page.goto(`${base}/catalog/default/component/scratch-service/releases`);
    await page.getByText(`Latest release: ${version}`).waitFor({ timeout: 60_000 });
    await page.getByText('succeeded', { exact: true }).first().waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Start release' }).waitFor({ timeout: 60_000 });
    console.log(`scratch Releases tab rendered: 'Latest release: ${version}', succeeded, and its Start release button`);
  } catch (error) {
    const text = await page.locator('body').innerText().catch(() => '');
    console.log(`install check: the page at ${page.url()} shows: ${text.replace(/\s+/g, ' ').slice(0, 600)}`);
    throw error;
  }
} finally {
  await browser.close();
}
