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
import { startLoad, startStack } from './stack/stack.mjs';

const BASE = 'http://localhost:7027';
process.env.RELEASE_PILOT_IT_DB_PREFIX = `${process.env.RELEASE_PILOT_IT_DB_PREFIX ?? `rp_it_${process.pid}_`}lifecycle_`;
let backend;
let stack;
let load;
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
  load = startLoad(stack.ports.front, { rps: 200, onAnswer: a => answers.push({ at: a.at, version: /^checkout (\S+)/.exec(a.body)?.[1], status: a.status }) });
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

  await t.test('no version served users before its canary was ready, none after its rollback, and no client error came from a deploy or a promotion', async () => {
    const { failures } = load;
    const counts = await load.stop();
    load = undefined;
    let beforeReady = 0;
    let afterRollback = 0;
    for (const r of finished) {
      const first = eventAt(r, 'started');
      beforeReady += answers.filter(a => a.version === r.version && a.at < first).length;
      if (r.state === 'rolled_back') afterRollback += answers.filter(a => a.version === r.version && a.at > eventAt(r, 'traffic_restored') + 1000).length;
    }
    const withVersion = answers.filter(a => a.version).length;
    console.log(`stack lifecycle must-be-0: ${finished.length} releases, ${withVersion} answers with their version; served before the canary was ready ${beforeReady}, by a rolled-back version after its rollback ${afterRollback}; client errors ${counts.connectionErrors + counts.routerErrors} of ${counts.sent} (${counts.serviceErrors} injected faults)`);
    const deployLog = fs.readFileSync(path.join(stack.dir, 'deploys.log'), 'utf8').trim().split('\n');
    if (failures.length) console.log(`stack client errors: ${failures.join(' | ')}; deploy steps: ${deployLog.join(' | ')}; HAProxy weight changes: ${finished.flatMap(r => r.timeline.filter(e => ['started', 'step_advanced', 'promotion_started', 'stable_deployed', 'rollback_started', 'traffic_restored', 'canary_deployed'].includes(e.type)).map(e => `${e.at} ${r.version} ${e.type}`)).join(' | ')}`);
    assert.equal(beforeReady, 0);
    assert.equal(afterRollback, 0);
    assert.equal(counts.connectionErrors + counts.routerErrors, 0, failures.join('\n'));
    const deploys = fs.readFileSync(path.join(stack.dir, 'deploys.log'), 'utf8').trim().split('\n').map(l => l.split(' ').slice(1).join(' '));
    console.log(`stack deploy steps run: ${deploys.join('; ')}`);
  });
});
