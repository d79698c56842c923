// Release Pilot against real infrastructure: Prometheus (1 s scrapes) and HAProxy from Debian's
// packages, two versions of a demo service, a bounded load generator, and the Backstage backend
// configured with an HAProxy + Prometheus target. Releases run through the HTTP API and the CLI:
// a healthy version is promoted to 100 %, faulty ones are rolled back (timed from the fault's first
// traffic), blue-green switches in one step and back on a failure during the bake, and no client
// request fails because of a weight change. Run by scripts/test.sh (which installs prometheus and
// haproxy); needs RELEASE_PILOT_IT_PG_HOST / _PORT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventAt, kill, releasesApi, root, runCli, sleep, startBackend, until } from './lib.mjs';
import { startLoad, startStack } from './stack/stack.mjs';

const BASE = 'http://localhost:7027';
process.env.RELEASE_PILOT_IT_DB_PREFIX = `${process.env.RELEASE_PILOT_IT_DB_PREFIX ?? `rp_it_${process.pid}_`}stack_`;
let backend;
let stack;
let load;
const logOf = () => backend?.log ?? [];
const { ready, create, waitForState, release, token } = releasesApi(BASE, logOf);

/** Every weight poller still running: stopped with the rest, so a failed test cannot keep the process alive. */
const pollers = new Set();

async function stopAll() {
  for (const poller of pollers) poller.stop();
  await load?.stop().catch(() => {});
  kill(backend);
  await stack?.stop();
}
after(stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopAll().finally(() => process.exit(1)));

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Samples HAProxy's weights every 100 ms, keeping each change with its time. */
function watchWeights() {
  const changes = [];
  let stopped = false;
  (async () => {
    while (!stopped) {
      try {
        const w = await stack.weights();
        const last = changes[changes.length - 1];
        if (!last || last.canary !== w.canary || last.stable !== w.stable) changes.push({ at: Date.now(), ...w });
      } catch { /* HAProxy busy; next round */ }
      await sleep(100);
    }
  })();
  const poller = { changes, stop: () => { stopped = true; pollers.delete(poller); } };
  pollers.add(poller);
  return poller;
}

const cli = (...args) => runCli(BASE, ...args);

test('real targets: HAProxy and Prometheus driven by the backend', { timeout: 900_000 }, async t => {
  stack = await startStack();
  load = startLoad(stack.ports.front, { rps: 300 });
  backend = startBackend([path.join(root, 'test/integration/stack/app-config.stack.yaml')], {
    RELEASE_PILOT_STACK_HAPROXY_API_PORT: String(stack.ports.haproxyApi),
    RELEASE_PILOT_STACK_PROMETHEUS_PORT: String(stack.ports.prometheus),
  });
  await ready();

  await t.test('a healthy version is promoted: HAProxy ends with 100 % on the new version', async () => {
    await stack.deployCanary('1.4.2');
    const r = await create('checkout', '1.4.2');
    const done = await waitForState(r.id, 'succeeded', 120_000);
    assert.deepEqual(await stack.weights(), { canary: 200, stable: 0 });
    assert.deepEqual(done.timeline.filter(e => e.type === 'step_advanced').map(e => e.data.weight), [50, 100]);
    const measured = done.samples.reduce((n, s) => n + s.canary.requests, 0);
    const served = (await stack.canaryStats()).requests;
    console.log(`stack healthy: succeeded in ${(eventAt(done, 'succeeded') - eventAt(done, 'started')) / 1000}s; Prometheus counted ${measured} canary requests until the last tick, the canary had served ${served} when asked after it`);
    assert.ok(measured > 0 && measured <= served, `measured ${measured} of ${served} canary requests`);
  });

  await t.test('faulty versions are rolled back automatically: HAProxy back to 100 % stable (3 runs, timed)', async () => {
    const decisions = [];
    const zeros = [];
    for (let run = 1; run <= 3; run++) {
      await stack.deployCanary(`1.4.3-bad.${run}`, 'errors');
      const weights = watchWeights();
      const r = await create('checkout', `1.4.3-bad.${run}`);
      const done = await waitForState(r.id, 'rolled_back', 60_000);
      await sleep(300);
      weights.stop();
      assert.deepEqual(await stack.weights(), { canary: 0, stable: 200 });
      assert.equal(done.currentStep, 0, 'rolled back at the first step (10 %)');
      const first = new Date((await stack.canaryStats()).firstRequestAt).getTime();
      const zeroSeen = weights.changes.find(c => c.at > first && c.canary === 0)?.at;
      const decision = (eventAt(done, 'rollback_started') - first) / 1000;
      const zero = (eventAt(done, 'rolled_back') - first) / 1000;
      decisions.push(decision);
      zeros.push(zero);
      console.log(`stack faulty run ${run}: rollback decided ${decision.toFixed(2)}s and canary weight 0 confirmed by HAProxy ${zero.toFixed(2)}s after the fault's first traffic (the 100 ms weight poller saw 0 at ${((zeroSeen - first) / 1000).toFixed(1)}s); reason: ${done.reason}`);
      assert.match(done.reason, /(Error rate|P(50|95|99) latency)/);
    }
    console.log(`stack faulty median of 3: rollback decision ${median(decisions).toFixed(1)}s, canary weight 0 ${median(zeros).toFixed(1)}s after the fault's first traffic (targets 5 s and 10 s)`);
  });

  await t.test('blue-green: no user traffic before the switch, one switch, then promoted', async () => {
    await stack.deployCanary('1.5.0');
    const preview = startLoad(stack.ports.preview, { rps: 30 });
    const weights = watchWeights();
    const r = await create('checkout', '1.5.0', 'vm-blue-green');
    const done = await waitForState(r.id, 'succeeded', 120_000);
    weights.stop();
    await preview.stop();
    const shares = weights.changes.map(c => Math.round((100 * c.canary) / (c.canary + c.stable)));
    assert.deepEqual([...new Set(shares)], [0, 100], `weights went ${shares.join(' > ')}`);
    assert.ok(done.watchStartedAt, 'the bake ran');
    console.log(`stack blue-green: preview on the test path, switched 0 > 100 in one step, baked ${(eventAt(done, 'succeeded') - eventAt(done, 'watch_started')) / 1000}s, succeeded`);
  });

  await t.test('blue-green: a version that starts failing after the switch is switched back during the bake', async () => {
    await stack.deployCanary('1.5.1-leak', 'late');
    const preview = startLoad(stack.ports.preview, { rps: 30 });
    const r = await create('checkout', '1.5.1-leak', 'vm-blue-green');
    const done = await waitForState(r.id, 'rolled_back', 120_000);
    await preview.stop();
    const switched = done.timeline.find(e => e.type === 'step_advanced' && e.data.weight === 100);
    assert.ok(switched, `it passed its preview and switched; it was rolled back at step ${done.currentStep + 1}: ${done.reason}`);
    assert.deepEqual(await stack.weights(), { canary: 0, stable: 200 });
    const seconds = (eventAt(done, 'rolled_back') - new Date(switched.at).getTime()) / 1000;
    assert.ok(done.watchStartedAt, 'it failed during the bake');
    assert.match(done.reason, /^post-release watch: /);
    console.log(`stack blue-green bake: switched back to the old version ${seconds}s after the switch (the fault began 6 s after it); reason: ${done.reason}`);
  });

  await t.test('release-pilot start --wait against the stack: exit 0 for a healthy version, 1 for a faulty one', async () => {
    await stack.deployCanary('1.6.0');
    const healthy = await cli('start', '--entity', 'component:default/checkout', '--version', '1.6.0', '--wait', '--interval', '1');
    assert.equal(healthy.code, 0, healthy.out + healthy.err);
    await stack.deployCanary('1.6.1-bad', 'errors');
    const faulty = await cli('start', '--entity', 'component:default/checkout', '--version', '1.6.1-bad', '--wait', '--interval', '1');
    assert.equal(faulty.code, 1, faulty.out + faulty.err);
    console.log(`stack cli: start --wait exited 0 (healthy) and 1 (faulty); last line: ${faulty.out.trim().split('\n').pop()}`);
  });

  /** The guest's (team-checkout's) notification of a release: one per release, updated by its latest event. */
  const notificationOf = async id => {
    const res = await fetch(`${BASE}/api/notifications/notifications`, { headers: { Authorization: `Bearer ${token()}` } });
    return (await res.json()).notifications.find(n => n.payload.scope === `release:${id}`)?.payload;
  };

  await t.test('Prometheus stalls for 4 s mid-release: the release holds its weight, tells the owners, then goes on and succeeds', async () => {
    await stack.deployCanary('1.7.0');
    const r = await create('checkout', '1.7.0');
    await until('the first sample', async () => ((await release(r.id)).samples?.length ? true : undefined), 30_000);
    const weights = watchWeights();
    const stalledAt = Date.now();
    stack.pausePrometheus();
    // During the stall: the owners hear once that it is holding, and HAProxy keeps the weight.
    const held = await until('the holding notification', async () => {
      const note = await notificationOf(r.id);
      return note?.severity === 'high' ? note : undefined;
    }, 10_000).finally(async () => {
      await sleep(Math.max(0, 4000 - (Date.now() - stalledAt)));
      stack.resumePrometheus();
    });
    const resumedAt = Date.now();
    const done = await waitForState(r.id, 'succeeded', 120_000);
    weights.stop();
    const errors = done.timeline.filter(e => e.type === 'provider_error');
    assert.ok(errors.length >= 1, 'the stall was noticed');
    const advancedDuring = done.timeline.filter(e => e.type === 'step_advanced' && Date.parse(e.at) > stalledAt + 1500 && Date.parse(e.at) < resumedAt);
    assert.deepEqual(advancedDuring, [], 'no step advanced while Prometheus did not answer');
    const changedDuring = weights.changes.slice(1).filter(c => c.at > stalledAt + 1500 && c.at < resumedAt);
    assert.deepEqual(changedDuring, [], 'HAProxy kept the weight during the stall');
    assert.match(held.title, /^Release of checkout 1\.7\.0 is holding at \d+%: its metrics are unavailable$/);
    console.log(`stack Prometheus stall (4 s): ${errors.length} provider errors (${errors[0].message}), weight held, the owners got "${held.title}", then succeeded ${((eventAt(done, 'succeeded') - resumedAt) / 1000).toFixed(1)}s after Prometheus answered again`);
  });

  await t.test('Prometheus down for longer than the limit (5 ticks): rolled back, never promoted, HAProxy back to stable', async () => {
    await stack.deployCanary('1.7.1');
    const r = await create('checkout', '1.7.1');
    await until('the first sample', async () => ((await release(r.id)).samples?.length ? true : undefined), 30_000);
    const downAt = Date.now();
    await stack.stopPrometheus();
    try {
      const done = await waitForState(r.id, 'rolled_back', 60_000);
      assert.match(done.reason, /^5 provider errors in a row, last: /);
      assert.equal(done.timeline.filter(e => e.type === 'provider_error').length, 5);
      assert.equal(done.timeline.filter(e => e.type === 'step_advanced' && Date.parse(e.at) > downAt + 1500).length, 0);
      assert.deepEqual(await stack.weights(), { canary: 0, stable: 200 });
      const note = await until('the rollback notification', async () => {
        const n = await notificationOf(r.id);
        return n?.severity === 'critical' ? n : undefined;
      }, 10_000);
      console.log(`stack Prometheus down: rolled back ${((eventAt(done, 'rolled_back') - downAt) / 1000).toFixed(1)}s after it went down; reason: ${done.reason}; owners: "${note.title}"`);
    } finally {
      await stack.startPrometheus();
    }
  });

  await t.test('no client request failed because of a weight change', async () => {
    const counts = await load.stop();
    console.log(`stack load: ${counts.sent} requests, ${counts.ok} ok, ${counts.serviceErrors} injected faults, ${counts.connectionErrors} connection errors, ${counts.routerErrors} router errors (502/503/504)`);
    assert.equal(counts.connectionErrors, 0, load.failures.join('\n'));
    assert.equal(counts.routerErrors, 0);
    assert.ok(counts.ok > 10_000);
    load = undefined;
  });
});
