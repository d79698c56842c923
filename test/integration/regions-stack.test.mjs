// A release across three regions on real parts: three stacks on loopback (each its own HAProxy and
// pair of demo services, deployed by Release Pilot through the command deployer), one Prometheus
// scraping all of them with a `region` label (each region's metrics select their own),
// one backend on PostgreSQL with the target `vm-regions` (waves: region-a, then region-b and
// region-c). A healthy release must reach every region; one failing in region-b (the second wave)
// must be rolled back everywhere, region-a (already promoted) included. Checked region by region from
// what each region's users are served and from a 100 ms poller of each HAProxy's weights.
// Run by scripts/test.sh; needs RELEASE_PILOT_IT_PG_HOST / _PORT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kill, releasesApi, root, sleep, startBackend } from './lib.mjs';
import { exposureBeyondPlan } from './stack/exposure.mjs';
import { startLoad, startSharedPrometheus, startStack } from './stack/stack.mjs';

const BASE = 'http://localhost:7027';
const REGIONS = ['region-a', 'region-b', 'region-c'];
process.env.RELEASE_PILOT_IT_DB_PREFIX = `${process.env.RELEASE_PILOT_IT_DB_PREFIX ?? `rp_it_${process.pid}_`}regions_`;

let backend;
let prometheus;
const stacks = {};
const loads = {};
/** Every answer each region's users got: its version and the HAProxy server that served it. */
const answers = {};
const pollers = {};
const logOf = () => backend?.log ?? [];
const { ready, create, waitForState, api } = releasesApi(BASE, logOf);

async function stopAll() {
  for (const l of Object.values(loads)) await l.stop().catch(() => {});
  for (const p of Object.values(pollers)) await p.stop().catch(() => {});
  kill(backend);
  for (const stack of Object.values(stacks)) {
    for (const side of ['stable', 'canary']) {
      const file = path.join(stack.dir, `${side}.pid`);
      if (fs.existsSync(file)) try { process.kill(Number(fs.readFileSync(file, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    }
    await stack.stop();
  }
  await prometheus?.stop();
}
after(stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopAll().finally(() => process.exit(1)));

/** What a region's users are served now: the versions of 50 answers through its HAProxy. */
async function servedIn(region) {
  const versions = new Set();
  for (let i = 0; i < 50; i++) {
    const body = await (await fetch(`http://127.0.0.1:${stacks[region].ports.front}/checkout`)).text();
    versions.add(/^checkout (\S+)/.exec(body)?.[1] ?? body.slice(0, 30));
  }
  return [...versions].sort();
}

test('one release across three regions on real parts: healthy everywhere, then a region-b failure rolled back everywhere', { timeout: 900_000 }, async t => {
  const env = { RELEASE_PILOT_STACK_NODE: process.execPath, RELEASE_PILOT_STACK_DEPLOY_SCRIPT: path.join(root, 'test/integration/stack/deploy-side.mjs') };
  for (const region of REGIONS) {
    const stack = await startStack({ prometheus: false });
    stacks[region] = stack;
    // The initial stable process (1.4.1) is the deploy step's to replace from now on.
    fs.writeFileSync(path.join(stack.dir, 'stable.pid'), String(stack.stable.pid));
    const key = region.slice(-1).toUpperCase();
    Object.assign(env, {
      [`RELEASE_PILOT_REGION_${key}_HAPROXY_API_PORT`]: String(stack.ports.haproxyApi),
      [`RELEASE_PILOT_REGION_${key}_STABLE_PORT`]: String(stack.ports.stable),
      [`RELEASE_PILOT_REGION_${key}_CANARY_PORT`]: String(stack.ports.canary),
      [`RELEASE_PILOT_REGION_${key}_DIR`]: stack.dir,
    });
    answers[region] = [];
    loads[region] = startLoad(stack.ports.front, {
      rps: 100,
      onAnswer: a => answers[region].push({ at: a.at, sentAt: a.sentAt, servedBy: a.servedBy, version: /^checkout (\S+)/.exec(a.body)?.[1], status: a.status }),
    });
    pollers[region] = stack.pollWeights(100);
  }
  prometheus = await startSharedPrometheus(stacks, region => ({ region }));
  // app-config.stack.yaml's own `vm` target points at region-a's HAProxy and the shared Prometheus.
  Object.assign(env, { RELEASE_PILOT_STACK_HAPROXY_API_PORT: env.RELEASE_PILOT_REGION_A_HAPROXY_API_PORT, RELEASE_PILOT_STACK_PROMETHEUS_PORT: String(prometheus.port) });
  backend = startBackend([path.join(root, 'test/integration/stack/app-config.stack.yaml'), path.join(root, 'test/integration/stack/app-config.stack-regions.yaml')], env);
  await ready();
  const releases = [];

  await t.test('2.0.0 goes wave by wave and every region serves it', async () => {
    const started = Date.now();
    const r = await create('checkout', '2.0.0');
    assert.deepEqual(r.rollout.plan.waves, [['region-a'], ['region-b', 'region-c']]);
    const done = await waitForState(r.id, 'succeeded', 300_000);
    releases.push(done);
    const byRegion = Object.fromEntries(done.regionReleases.map(x => [x.region, x]));
    assert.deepEqual(REGIONS.map(x => byRegion[x].state), ['succeeded', 'succeeded', 'succeeded']);
    // The second wave began after the first region succeeded.
    assert.ok(Date.parse(byRegion['region-b'].createdAt) >= Date.parse(byRegion['region-a'].finishedAt));
    for (const region of REGIONS) assert.deepEqual(await servedIn(region), ['2.0.0'], region);
    const minutes = (Date.parse(done.finishedAt) - started) / 60_000;
    console.log(`regions healthy: 2.0.0 succeeded in 3 regions in ${(minutes * 60).toFixed(1)} s (waves region-a | region-b region-c); every region's users served 2.0.0 after it`);
  });

  await t.test('2.1.0 fails in region-b only: it rolls itself back, and region-a (promoted) and region-c are rolled back too', async () => {
    const r = await create('checkout', '2.1.0-faulty-in-region-b');
    const done = await waitForState(r.id, 'rolled_back', 300_000);
    releases.push(done);
    assert.equal(done.rollout.failedRegion, 'region-b');
    const byRegion = Object.fromEntries(done.regionReleases.map(x => [x.region, x]));
    assert.deepEqual(REGIONS.map(x => byRegion[x].state), ['rolled_back', 'rolled_back', 'rolled_back']);
    const regionA = (await api('GET', `/releases/${byRegion['region-a'].id}`)).body;
    assert.ok(regionA.timeline.some(e => e.type === 'succeeded'), 'region-a had been promoted before region-b failed');
    // region-c ran beside region-b, judged on its own series (region="region-c" in the shared
    // Prometheus): healthy, it was rolled back for region-b's failure, not for its own verdict.
    const regionC = (await api('GET', `/releases/${byRegion['region-c'].id}`)).body;
    assert.match(regionC.timeline.find(e => e.type === 'rollback_started')?.message ?? '', /^Rolling back: requested by release-pilot: region-b rolled back: /);
    // No skew: every region's users are served the version before.
    await sleep(1500);
    for (const region of REGIONS) assert.deepEqual(await servedIn(region), ['2.0.0'], region);
    console.log(`regions faulty: 2.1.0-faulty-in-region-b rolled back everywhere; reason: ${done.reason}; every region's users served 2.0.0 after it`);
  });

  await t.test("in no region did a version serve users beyond its region's plan before it was judged, or after its rollback; no client error", async () => {
    const totals = { answersChecked: 0, beyondPlan: 0, fromStable: 0, readingsChecked: 0, readingsAbovePlan: 0, afterRollback: 0 };
    const examples = [];
    let sent = 0;
    let clientErrors = 0;
    for (const region of REGIONS) {
      const counts = await loads[region].stop();
      delete loads[region];
      sent += counts.sent;
      clientErrors += counts.connectionErrors + counts.routerErrors;
      const readings = await pollers[region].stop();
      delete pollers[region];
      // Each region's own releases (its parts of the two releases), judged against its own answers and HAProxy.
      const parts = releases.flatMap(r => r.regionReleases.filter(x => x.region === region));
      const details = await Promise.all(parts.map(async x => (await api('GET', `/releases/${x.id}`)).body));
      const exposure = exposureBeyondPlan({ releases: details, answers: answers[region].filter(a => a.version), weights: readings });
      for (const key of Object.keys(totals)) totals[key] += exposure[key];
      examples.push(...exposure.examples.map(e => `${region}: ${e}`));
    }
    console.log(
      `regions must-be-0: ${totals.answersChecked} answers and ${totals.readingsChecked} HAProxy readings checked in 3 regions; answers beyond the region's plan ${totals.beyondPlan}, ` +
        `from the stable side before it was judged ${totals.fromStable}, HAProxy readings above the plan ${totals.readingsAbovePlan}, answers by a rolled-back version after its rollback ${totals.afterRollback}; ` +
        `client errors ${clientErrors} of ${sent}${examples.length ? `; examples: ${examples.join(' | ')}` : ''}`,
    );
    assert.ok(totals.answersChecked > 1000 && totals.readingsChecked > 300, JSON.stringify(totals));
    assert.deepEqual(
      { beyondPlan: totals.beyondPlan, fromStable: totals.fromStable, readingsAbovePlan: totals.readingsAbovePlan, afterRollback: totals.afterRollback },
      { beyondPlan: 0, fromStable: 0, readingsAbovePlan: 0, afterRollback: 0 },
    );
    assert.equal(clientErrors, 0);
  });
});
