// The whole lifecycle on real infrastructure: HAProxy, Prometheus and demo service processes that
// Release Pilot itself deploys through the command deployer (stack/deploy-side.mjs restarts a side's
// process with the new version). Four releases in a row, 1.4.2, 1.4.3, 1.4.4-faulty and 1.4.5, and
// then the rollback of the last success; the harness never touches HAProxy or the services between
// them. Every answer of a load generator carries the version that served it. Run by scripts/test.sh;
// needs RELEASE_PILOT_IT_PG_HOST / _PORT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventAt, kill, releasesApi, root, sleep, startBackend, until } from './lib.mjs';
import { exposureBeyondPlan } from './stack/exposure.mjs';
import { haproxyCommand, startLoad, startStack } from './stack/stack.mjs';

const BASE = 'http://localhost:7027';
process.env.RELEASE_PILOT_IT_DB_PREFIX = `${process.env.RELEASE_PILOT_IT_DB_PREFIX ?? `rp_it_${process.pid}_`}lifecycle_`;
let backend;
let stack;
let load;
let poller;
const logOf = () => backend?.log ?? [];
const { ready, create, waitForState, api } = releasesApi(BASE, logOf);

/** The demo service processes the deploy step started, by their pid files. */
function deployedPids() {
  return ['stable', 'canary'].flatMap(side => {
    const file = stack ? path.join(stack.dir, `${side}.pid`) : '';
    return file && fs.existsSync(file) ? [Number(fs.readFileSync(file, 'utf8'))] : [];
  });
}

async function stopAll() {
  await load?.stop().catch(() => {});
  await poller?.stop().catch(() => {});
  kill(backend);
  for (const pid of deployedPids()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  await stack?.stop();
}
after(stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopAll().finally(() => process.exit(1)));

test('the whole lifecycle on the stack: the command deployer deploys, promotes and rolls back', { timeout: 900_000 }, async t => {
  stack = await startStack();
  // The initial stable process (1.4.1) is the deploy step's to replace from now on.
  fs.writeFileSync(path.join(stack.dir, 'stable.pid'), String(stack.stable.pid));
  const answers = [];
  load = startLoad(stack.ports.front, {
    rps: 200,
    onAnswer: a => answers.push({ at: a.at, sentAt: a.sentAt, servedBy: a.servedBy, version: /^checkout (\S+)/.exec(a.body)?.[1], status: a.status }),
  });
  poller = stack.pollWeights(100);
  backend = startBackend(
    [path.join(root, 'test/integration/stack/app-config.stack.yaml'), path.join(root, 'test/integration/stack/app-config.stack-lifecycle.yaml')],
    {
      RELEASE_PILOT_STACK_HAPROXY_API_PORT: String(stack.ports.haproxyApi),
      RELEASE_PILOT_STACK_PROMETHEUS_PORT: String(stack.ports.prometheus),
      RELEASE_PILOT_STACK_STABLE_PORT: String(stack.ports.stable),
      RELEASE_PILOT_STACK_CANARY_PORT: String(stack.ports.canary),
      RELEASE_PILOT_STACK_DIR: stack.dir,
      RELEASE_PILOT_STACK_NODE: process.execPath,
      RELEASE_PILOT_STACK_DEPLOY_SCRIPT: path.join(root, 'test/integration/stack/deploy-side.mjs'),
    },
  );
  await ready();

  const served = async side => (await (await fetch(`http://127.0.0.1:${stack.ports[side]}/stats`)).json()).version;
  const finished = [];
  const expectations = [
    ['1.4.2', 'succeeded'],
    ['1.4.3', 'succeeded'],
    ['1.4.4-faulty', 'rolled_back'],
    ['1.4.5', 'succeeded'],
  ];
  let lastGood = '1.4.1';
  for (const [version, outcome] of expectations) {
    await t.test(`${version} is ${outcome.replace('_', ' ')}; stable then serves ${outcome === 'succeeded' ? version : 'the version before'} at 100 %`, async () => {
      const r = await create('checkout', version);
      const done = await waitForState(r.id, outcome, 180_000);
      finished.push(done);
      if (outcome === 'succeeded') lastGood = version;
      const weights = await stack.weights();
      assert.equal(weights.canary, 0, 'the canary ends at 0 %');
      assert.ok(weights.stable > 0, 'the stable side takes all the traffic');
      assert.equal(await served('stable'), lastGood);
      assert.deepEqual(done.sides.stable, lastGood);
      const types = done.timeline.map(e => e.type);
      assert.ok(types.indexOf('canary_deployed') < types.indexOf('started'), 'the canary was ready before its first step');
      if (outcome === 'succeeded') {
        assert.deepEqual(types.slice(-4), ['promotion_started', 'stable_deployed', 'canary_scaled_down', 'succeeded']);
      } else {
        assert.equal(done.recovery.status, 'recovered');
      }
      const at = type => (eventAt(done, type) - eventAt(done, 'deploy_started')) / 1000;
      console.log(`stack lifecycle ${version} (tick 1 s, scrape 1 s): ${done.state}; canary deployed ${at('canary_deployed').toFixed(1)} s after the deploy began, first step ${at('started').toFixed(1)} s` +
        (outcome === 'succeeded'
          ? `, promotion ${((eventAt(done, 'succeeded') - eventAt(done, 'promotion_started')) / 1000).toFixed(1)} s; stable serves ${lastGood}`
          : `, rolled back: recovered ${done.recovery.seconds.toFixed(1)} s after the decision (${done.recovery.summary}); stable serves ${lastGood}`));
    });
  }

  await t.test('the rollback of the succeeded 1.4.5 puts 1.4.3 back on the stable side; users are served 1.4.3 again', async () => {
    const latest = finished.at(-1);
    const res = await api('POST', `/releases/${latest.id}/rollback`, { reason: 'customers report a regression' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const decidedAt = Date.now();
    const done = await waitForState(latest.id, 'rolled_back', 120_000);
    assert.equal(await served('stable'), '1.4.3');
    await sleep(1500);
    const recent = answers.filter(a => a.at > Date.now() - 1000 && a.version);
    assert.ok(recent.length > 50 && recent.every(a => a.version === '1.4.3'), `recent answers: ${[...new Set(recent.map(a => a.version))]}`);
    console.log(`stack rollback of a success: 1.4.5 > 1.4.3 in ${((eventAt(done, 'rolled_back') - decidedAt) / 1000).toFixed(1)} s; recovery ${done.recovery.status} (${done.recovery.summary})`);
  });

  await t.test('no version served users beyond its plan before it was judged, none after its rollback, and no client error came from a deploy or a promotion', async () => {
    const { failures } = load;
    const counts = await load.stop();
    load = undefined;
    const readings = await poller.stop();
    poller = undefined;
    // The releases as they ended, the rollback of 1.4.5 included.
    const releases = await Promise.all(finished.map(async r => (await api('GET', `/releases/${r.id}`)).body));
    const exposure = exposureBeyondPlan({ releases, answers: answers.filter(a => a.version), weights: readings });
    const withVersion = answers.filter(a => a.version).length;
    console.log(
      `stack lifecycle must-be-0: ${releases.length} releases, ${withVersion} answers with their version and side, ${readings.length} HAProxy weight readings (every 100 ms); ` +
        `answers by a version not yet judged beyond its plan's weight ${exposure.beyondPlan} (${exposure.answersChecked} answers in ${exposure.bins} one-second bins checked), ` +
        `from the stable side before it was judged ${exposure.fromStable}, HAProxy readings above the plan ${exposure.readingsAbovePlan} of ${exposure.readingsChecked}, ` +
        `answers by a rolled-back version after its rollback ${exposure.afterRollback}; client errors ${counts.connectionErrors + counts.routerErrors} of ${counts.sent} (${counts.serviceErrors} injected faults)`,
    );
    const deployLog = fs.readFileSync(path.join(stack.dir, 'deploys.log'), 'utf8').trim().split('\n');
    if (failures.length || exposure.examples.length) {
      console.log(`stack exposure examples: ${exposure.examples.join(' | ')}; client errors: ${failures.join(' | ')}; deploy steps: ${deployLog.join(' | ')}`);
    }
    assert.ok(exposure.answersChecked > 1000 && exposure.readingsChecked > 100, JSON.stringify(exposure));
    assert.deepEqual(
      { beyondPlan: exposure.beyondPlan, fromStable: exposure.fromStable, readingsAbovePlan: exposure.readingsAbovePlan, afterRollback: exposure.afterRollback },
      { beyondPlan: 0, fromStable: 0, readingsAbovePlan: 0, afterRollback: 0 },
      exposure.examples.join('\n'),
    );
    assert.equal(counts.connectionErrors + counts.routerErrors, 0, failures.join('\n'));
    console.log(`stack deploy steps run: ${deployLog.map(l => l.split(' ').slice(1).join(' ')).join('; ')}`);
  });

  await t.test('negative control: the same counter catches a router that gives a canary 50 % during its 10 % step', async () => {
    const controlAnswers = [];
    load = startLoad(stack.ports.front, {
      rps: 200,
      onAnswer: a => controlAnswers.push({ sentAt: a.sentAt, servedBy: a.servedBy, version: /^checkout (\S+)/.exec(a.body)?.[1] }),
    });
    poller = stack.pollWeights(100);
    const r = await create('checkout', '1.4.6');
    await until('the first step', async () => (await api('GET', `/releases/${r.id}`)).body.state === 'running', 60_000);
    // The broken router: HAProxy is set behind Release Pilot's back; its next tick puts the plan's weight back.
    await haproxyCommand(stack.ports.haproxyApi, 'set server checkout/canary weight 100');
    await haproxyCommand(stack.ports.haproxyApi, 'set server checkout/stable weight 100');
    const done = await waitForState(r.id, 'succeeded', 180_000);
    await load.stop();
    load = undefined;
    const readings = await poller.stop();
    poller = undefined;
    const exposure = exposureBeyondPlan({ releases: [done], answers: controlAnswers.filter(a => a.version), weights: readings });
    console.log(`stack exposure negative control (HAProxy set to 50 % behind the plan's 10 %, until the next tick reconciled it): answers beyond the plan ${exposure.beyondPlan}, HAProxy readings above the plan ${exposure.readingsAbovePlan}; reconciled: ${done.timeline.some(e => e.type === 'weight_reconciled')}`);
    assert.ok(exposure.beyondPlan > 0 && exposure.readingsAbovePlan > 0, JSON.stringify(exposure));
  });
});
