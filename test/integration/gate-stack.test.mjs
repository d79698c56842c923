// The resilience gate on real infrastructure (issue 18): HAProxy, Prometheus and demo service
// processes; the canary and a stable-version gate instance each in a network namespace, each
// reading its dependency through a fault proxy; real faults (latency from the proxy, rejected
// connections from nftables) under autocannon load. A `-fragile` version (a dependency pool of 2
// instead of 16) is blocked before any production request, a healthy one passes, and a backend
// SIGKILLed mid-experiment leaves no fault behind past its TTL. Needs root (namespaces, nft),
// RELEASE_PILOT_IT_PG_HOST / _PORT. RELEASE_PILOT_GATE_RUNS=N adds N more healthy releases
// through the gate (the false-block count, docs/measured.md). RELEASE_PILOT_GATE_BROKEN=traffic sends
// users to the canary while its gate runs: the 0-production-requests check must then fail.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventAt, kill, releasesApi, root, sleep, startBackend, until } from './lib.mjs';
import { startGateStack } from './stack/gate-stack.mjs';
import { haproxyCommand, startLoad } from './stack/stack.mjs';

const BASE = 'http://localhost:7027';
process.env.RELEASE_PILOT_IT_DB_PREFIX = `${process.env.RELEASE_PILOT_IT_DB_PREFIX ?? `rp_it_${process.pid}_`}gate_`;
const CONFIGS = ['app-config.stack.yaml', 'app-config.stack-gate.yaml'].map(f => path.join(root, 'test/integration/stack', f));
const EXTRA_RUNS = Number(process.env.RELEASE_PILOT_GATE_RUNS ?? 0);
let backend;
let gate;
let load;
const logOf = () => backend?.log ?? [];
const { ready, create, release } = releasesApi(BASE, logOf);

async function stopAll() {
  await load?.stop().catch(() => {});
  kill(backend);
  for (const side of ['stable', 'canary']) {
    const file = gate ? path.join(gate.stack.dir, `${side}.pid`) : '';
    if (file && fs.existsSync(file)) try { process.kill(Number(fs.readFileSync(file, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
  }
  await gate?.stop();
}
after(stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopAll().finally(() => process.exit(1)));

const seconds = (r, from, to) => ((eventAt(r, to) - eventAt(r, from)) / 1000).toFixed(1);

async function startReplica() {
  backend = startBackend(CONFIGS, gate.env);
  await ready();
}

/** No fault left anywhere: no proxy fault, no nftables set element in either namespace, no stress-ng. */
async function assertNoFaults(when) {
  const faults = await gate.faults();
  assert.deepEqual(faults.proxies, { canary: null, stable: null }, `${when}: a fault proxy still has a fault`);
  assert.equal(faults.nft.canary.elements || faults.nft.stable.elements, false, `${when}: nftables still holds a fault:\n${faults.nft.canary.rules}\n${faults.nft.stable.rules}`);
  assert.deepEqual(faults.stressNg, [], `${when}: stress-ng still runs`);
}

test('the resilience gate on the stack, with real faults', { timeout: 1_800_000 }, async t => {
  gate = await startGateStack();
  fs.writeFileSync(path.join(gate.stack.dir, 'stable.pid'), String(gate.stack.stable.pid));
  load = startLoad(gate.stack.ports.front, { rps: 50 });
  await startReplica();

  await t.test('a -fragile version is blocked by the gate with 0 production requests served by it', async () => {
    const r = await create('checkout', '1.5.0-fragile');
    if (process.env.RELEASE_PILOT_GATE_BROKEN === 'traffic') {
      // A deliberately broken setup: users reach the canary while its gate runs. The checks below must fail.
      await until('the gate to start', async () => (await release(r.id)).state === 'gating', 120_000, logOf);
      await haproxyCommand(gate.stack.ports.haproxyApi, 'set server checkout/canary weight 20');
    }
    const done = await until(`release ${r.id} to end or pause`, async () => {
      const now = await release(r.id);
      return ['rolled_back', 'paused', 'succeeded', 'failed'].includes(now.state) ? now : undefined;
    }, 300_000, logOf);
    // HAProxy's own count of the sessions it sent to the canary server: users' requests.
    assert.equal(await gate.canaryProductionSessions(), 0, 'HAProxy sent production requests to the fragile canary');
    assert.equal(done.state, 'rolled_back', `${done.state}: ${done.reason ?? ''}`);
    assert.match(done.reason, /^resilience gate: dependency latency \+200 ms: /);
    const failed = done.resilience.experiments[0];
    assert.equal(failed.verdict, 'failed');
    await assertNoFaults('after the blocked release');
    console.log(`-fragile blocked ${seconds(done, 'fault_injected', 'experiment_failed')} s after the fault went on; the gate took ${seconds(done, 'gate_started', 'gate_failed')} s; ` +
      `canary errors under the fault ${failed.fault.canary.errors}/${failed.fault.canary.requests}, stable ${failed.fault.stable.errors}/${failed.fault.stable.requests}; HAProxy canary sessions 0`);
  });

  const passes = [];
  for (let run = 0; run <= EXTRA_RUNS; run++) {
    const version = `1.5.${run + 1}`;
    await t.test(`a healthy version (${version}) passes the gate and is released`, async () => {
      const r = await create('checkout', version);
      const done = await until(`release ${r.id} to end`, async () => {
        const now = await release(r.id);
        return ['succeeded', 'rolled_back', 'paused', 'failed'].includes(now.state) ? now : undefined;
      }, 300_000, logOf);
      passes.push(done);
      assert.equal(done.state, 'succeeded', `a healthy version was ${done.state}: ${done.reason}`);
      assert.deepEqual(done.resilience.experiments.map(e => e.verdict), ['passed', 'passed']);
      await assertNoFaults(`after ${version}`);
      console.log(`${version}: the gate added ${seconds(done, 'gate_started', 'gate_passed')} s (deploy to first step ${seconds(done, 'canary_deployed', 'started')} s)`);
    });
  }
  console.log(`healthy versions through the gate: ${passes.filter(p => p.state === 'succeeded').length} of ${passes.length} passed`);

  await t.test('a backend SIGKILLed mid-experiment leaves no fault behind past its TTL, each kind', async () => {
    const r = await create('checkout', '1.6.0');
    for (const [index, kind] of [[0, 'fault proxy'], [1, 'nftables']]) {
      const during = await until(`experiment ${index} to be under its fault`, async () => {
        const now = await release(r.id);
        const e = now.resilience?.experiments[index];
        return e?.phase === 'fault' && e.phaseSeconds >= 2 ? now : undefined;
      }, 240_000, logOf);
      // The checker sees the fault while it is on (so it would see one left behind).
      const on = await gate.faults();
      assert.ok(index === 0 ? on.proxies.canary && on.proxies.stable : on.nft.canary.elements && on.nft.stable.elements, `the ${kind} fault is not on: ${JSON.stringify(on)}`);
      kill(backend);
      const killedAt = Date.now();
      const e = during.resilience.experiments[index];
      // The fault went on one tick (1 s) into its phase with a TTL of the rest plus 30 s: what is left of it now.
      const ttl = Math.round(e.experiment.durationSeconds - e.phaseSeconds + 1 + 30);
      await until(`the ${kind} fault to be gone`, async () => {
        const faults = await gate.faults();
        return index === 0 ? !faults.proxies.canary && !faults.proxies.stable : !faults.nft.canary.elements && !faults.nft.stable.elements;
      }, (ttl + 5) * 1000);
      const gone = (Date.now() - killedAt) / 1000;
      await assertNoFaults(`after the ${kind} fault's TTL`);
      // The instances themselves are untouched: running, not stopped.
      for (const side of ['canary', 'stable']) {
        const pid = side === 'canary' ? Number(fs.readFileSync(path.join(gate.stack.dir, 'canary.pid'), 'utf8')) : undefined;
        if (pid) assert.doesNotMatch(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2], /[TZX]/);
      }
      console.log(`backend SIGKILLed ${e.phaseSeconds.toFixed(1)} s into '${e.experiment.name}': the ${kind} fault was gone ${gone.toFixed(1)} s later (its TTL ran out about ${ttl} s after the kill)`);
      await startReplica();
    }
    const done = await until(`release ${r.id} to end`, async () => {
      const now = await release(r.id);
      return ['succeeded', 'rolled_back', 'paused', 'failed'].includes(now.state) ? now : undefined;
    }, 300_000, logOf);
    assert.equal(done.state, 'succeeded', `${done.state}: ${done.reason}`);
    assert.ok(done.timeline.filter(e => e.type === 'taken_over').length >= 1, 'no replica took the release over');
    await assertNoFaults('after the release');
  });
  await sleep(0);
});
