// The backend as a real process on a real PostgreSQL: a healthy release succeeds after its watch, a
// -overload one is rolled back by the post-release watch, a -faulty one is rolled back within 10 s of
// its first traffic, and a backend killed with SIGKILL mid-release
// continues that release from the same step once started again. Run by scripts/test.sh with
// node's test runner; needs RELEASE_PILOT_IT_PG_HOST / _PORT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { eventAt, kill, releasesApi, root, runCli, startBackend as start, until as poll } from './lib.mjs';

const BASE = 'http://localhost:7017';
process.env.RELEASE_PILOT_IT_DB_PREFIX ??= `rp_it_${process.pid}_`;
let backend;
const logOf = () => backend?.log ?? [];
const startBackend = () => start([path.join(root, 'test/integration/app-config.integration.yaml')]);
const until = (what, fn, timeoutMs) => poll(what, fn, timeoutMs, logOf);
const { api, pipeline, ready, release, create, waitForState, token: currentToken } = releasesApi(BASE, logOf);

after(() => kill(backend));

const cli = (...args) => runCli(BASE, ...args);

test('the backend process on PostgreSQL: succeed, roll back, survive SIGKILL', { timeout: 600_000 }, async t => {
  backend = startBackend();
  await ready();

  await t.test('a healthy release reaches succeeded', async () => {
    const r = await create('payments', '5.0.0');
    const done = await waitForState(r.id, 'succeeded', 180_000);
    console.log(`healthy release: succeeded ${(eventAt(done, 'succeeded') - eventAt(done, 'created')) / 1000}s after it was requested, ${(eventAt(done, 'succeeded') - eventAt(done, 'watch_started')) / 1000}s of it the post-release watch`);
    assert.equal(done.latestVerdict.kind, 'watch');
  });

  await t.test('a version that breaks only under the full load is rolled back at its 100 % step, against the baseline before it', async () => {
    const r = await create('search', '5.0.1-overload');
    const done = await waitForState(r.id, 'rolled_back', 180_000);
    const atFull = done.timeline.find(e => e.type === 'step_advanced' && e.data?.weight === 100);
    console.log(`overload release: passed every step below 100 %, rolled back at 100 % ${(eventAt(done, 'rolled_back') - new Date(atFull?.at).getTime()) / 1000}s into it, before any watch; reason: ${done.reason}`);
    assert.ok(atFull, `it reached its 100 % step; it was rolled back at step ${done.currentStep + 1}: ${done.reason}`);
    assert.equal(done.watchStartedAt ?? undefined, undefined, 'it was caught before the post-release watch');
    assert.equal(done.canaryWeight, 0);
    // The canary alone (errors 0.3 %) against the baseline's rate earlier in the release (0.02 %).
    assert.match(done.reason, /^Error rate [\d.]+% vs [\d.]+% baseline \(before the canary served alone\): canary error rate [\d.]+x the baseline's/);
  });

  await t.test('a release that places half the orders is rolled back on a count metric where fewer is worse', async () => {
    const r = await create('gateway', '5.0.2-no-orders');
    const done = await waitForState(r.id, 'rolled_back', 90_000);
    console.log(`no-orders release: rolled back at canary weight step ${done.currentStep + 1} ${(eventAt(done, 'rolled_back') - eventAt(done, 'started')) / 1000}s after it started; reason: ${done.reason}`);
    // A small early step may see no canary orders at all: then the canary "has none".
    assert.match(done.reason, /^Orders [\d.]+ per 100 requests vs [\d.]+ per 100 requests baseline: canary orders rate ([\d.]+x lower than the baseline's|lower than the baseline's: the canary has none)/);
  });

  await t.test('a -faulty release is rolled back within 10 s of its first traffic, naming the metric and both values', async () => {
    const r = await create('checkout', '5.1.0-faulty');
    const done = await waitForState(r.id, 'rolled_back', 60_000);
    const seconds = (eventAt(done, 'traffic_restored') - eventAt(done, 'started')) / 1000;
    console.log(`faulty release: canary weight 0 ${seconds}s after its fault first took traffic, recovered ${done.recovery?.seconds}s after the decision; reason: ${done.reason}`);
    assert.ok(seconds <= 10, `rolled back after ${seconds}s`);
    assert.equal(done.canaryWeight, 0);
    assert.match(done.reason, /(P(50|95|99) latency [\d,]+ ms vs [\d,]+ ms|Error rate [\d.]+% vs [\d.]+%) baseline/);
    // The owning team's member (the guest) has exactly one notification for it: critical, with the reason.
    const notes = await until('the guest\'s notification of the rollback', async () => {
      const res = await fetch(`${BASE}/api/notifications/notifications`, { headers: { Authorization: `Bearer ${currentToken()}` } });
      const mine = (await res.json()).notifications.filter(n => n.payload.scope === `release:${r.id}`);
      return mine.length && mine[0].payload.severity === 'critical' ? mine : undefined;
    }, 15_000);
    assert.equal(notes.length, 1);
    assert.equal(notes[0].payload.title, 'Release of checkout 5.1.0-faulty rolled back automatically');
    // The simulated deployer scaled the canary down and the recovery check measured the service back at its level.
    assert.equal(done.recovery.status, 'recovered');
    assert.equal(notes[0].payload.description, `Reason: ${done.reason} Recovered ${done.recovery.seconds.toFixed(1)} s after the rollback decision: ${done.recovery.summary}.`);
    assert.equal(notes[0].payload.link, '/catalog/default/component/checkout/releases');
    console.log(`faulty release: one critical notification for the owner team's guest: "${notes[0].payload.title}"`);
  });

  await t.test('the resilience gate: a -fragile version is blocked before any production traffic, with its evidence', async () => {
    const r = await create('gateway', '5.1.1-fragile', 'resilient');
    const done = await waitForState(r.id, 'rolled_back', 120_000);
    const types = done.timeline.map(e => e.type);
    const seconds = (eventAt(done, 'gate_failed') - eventAt(done, 'fault_injected')) / 1000;
    console.log(`fragile release: blocked by the resilience gate ${seconds}s after its first fault went on (1 s tick), never given production traffic; reason: ${done.reason}`);
    assert.ok(!types.includes('started') && !types.includes('step_advanced'), types.join(','));
    assert.deepEqual(types.filter(t => t.startsWith('gate_') || t.startsWith('fault_') || t.startsWith('experiment_')), ['gate_started', 'fault_injected', 'experiment_failed', 'fault_removed', 'gate_failed']);
    assert.match(done.reason, /^resilience gate: dependency latency \+200 ms: Errors under dependency latency \+200 ms: canary \d+\.\d % vs stable/);
    assert.equal(done.recovery.status, 'not_needed');
    assert.equal(done.resilience.verdict, 'failed');
  });

  await t.test('release-pilot start --wait with a static token: exit 0 for a healthy version, 1 for a faulty one, 3 with a clear message on errors', async () => {
    const started = Date.now();
    const healthy = await cli('start', '--entity', 'component:default/payments', '--version', '5.2.0', '--plan', 'slow', '--wait', '--interval', '1');
    assert.equal(healthy.code, 0, healthy.out + healthy.err);
    assert.match(healthy.out, /succeeded step 5\/5 at 100%/);
    // Run in this checkout, the CLI sends its HEAD commit: the team overview's lead time runs from its commit time.
    const head = spawnSync('git', ['log', '-1', '--format=%H %cI'], { cwd: root, encoding: 'utf8' });
    if (head.status === 0) {
      const [commit, commitTime] = head.stdout.trim().split(' ');
      const { metadata } = await release(healthy.out.match(/^Started release (\S+)/m)[1]);
      assert.equal(metadata.commit, commit);
      assert.equal(metadata.commitTime, new Date(commitTime).toISOString());
      // payments' last success was started through the API, without a commit: the size stays unknown, and says why.
      assert.match(healthy.out, /^Change size unknown: the last release of component:default\/payments \(5\.0\.0\) stored no commit$/m);
      assert.equal(metadata.linesAdded, undefined);
    }
    const faulty = await cli('start', '--entity', 'component:default/checkout', '--version', '5.2.1-faulty', '--wait', '--interval', '1');
    assert.equal(faulty.code, 1, faulty.out + faulty.err);
    assert.match(faulty.out, /rolled_back step \d\/6 at 0% \((P(50|95|99) latency|Error rate)/);
    console.log(`cli: start --wait exited 0 for a healthy release (${healthy.out.trim().split('\n').length} progress lines) and 1 for a faulty one, ${(Date.now() - started) / 1000}s for both`);
    const unknown = await cli('start', '--entity', 'component:default/nope', '--version', '1');
    assert.equal(unknown.code, 3);
    assert.match(unknown.err, /POST \/releases failed \(404\): .*nope/);
    const badToken = await cli('status', '00000000-0000-4000-8000-0000000000ff', '--token', 'wrong-token-here');
    assert.equal(badToken.code, 3);
    assert.match(badToken.err, /refused the token \(401\)/);
    const nowhere = await cli('status', '00000000-0000-4000-8000-0000000000ff', '--url', 'http://127.0.0.1:7019');
    assert.equal(nowhere.code, 3);
    assert.match(nowhere.err, /Cannot reach Backstage at http:\/\/127\.0\.0\.1:7019 \(ECONNREFUSED\); is the backend running\?/);
  });

  await t.test('the risk gate: a huge breaking change is blocked with its reasons (exit 2); an override with a reason starts it and is on the timeline', async () => {
    const metadata = path.join(os.tmpdir(), `rp-risky-${process.pid}.json`);
    fs.writeFileSync(metadata, JSON.stringify({ linesAdded: 18000, linesDeleted: 2000, filesChanged: 400, breaking: true, majorDependencyChanges: 3, coverage: 0.2 }));
    const blocked = await cli('start', '--entity', 'component:default/recommendations', '--version', '9.0.0', '--metadata', metadata);
    assert.equal(blocked.code, 2, blocked.out + blocked.err);
    assert.match(blocked.err, /Release blocked: predicted risk \d+% is above the limit of 85% for component:default\/recommendations \(lines changed: 20,000 \(usually 200\)/);
    const overridden = await cli('start', '--entity', 'component:default/recommendations', '--version', '9.0.0', '--metadata', metadata, '--risk-override', 'hotfix for the outage');
    assert.equal(overridden.code, 0, overridden.out + overridden.err);
    assert.match(overridden.out, /plan 'careful \(high risk\)'\); predicted risk \d+% \(prior\): risk \d+% is at or above 50%: smaller steps .* and a manual gate before 50%; risk gate overridden: hotfix for the outage/);
    const id = /Started release (\S+)/.exec(overridden.out)[1];
    const details = await release(id);
    assert.match(details.timeline.find(e => e.type === 'risk_override').message, /^Risk gate overridden by .*: risk \d+% above the limit of 85%\. Reason: hotfix for the outage$/);
    const rolledBack = await cli('rollback', id, '--reason', 'only testing the gate');
    assert.equal(rolledBack.code, 0, rolledBack.out + rolledBack.err);
    fs.rmSync(metadata);
    console.log(`risk gate: blocked (exit 2) with "${blocked.err.trim().slice(15, 140)}..."; override started plan '${details.plan.name}' with a gate before ${details.plan.steps.find(s => s.approval).weight}%`);
  });

  await t.test('twenty malformed requests across the routes: all 4xx with a message, none 5xx, nothing created', async () => {
    const before = (await api('GET', '/releases?limit=100')).body.totalCount;
    const id = '00000000-0000-4000-8000-0000000000ff';
    const raw = (method, url, body, type = 'application/json') =>
      fetch(`${BASE}/api/releases${url}`, { method, headers: { Authorization: `Bearer ${currentToken()}`, 'Content-Type': type }, body });
    const json = (method, url, body) => raw(method, url, JSON.stringify(body));
    const requests = [
      raw('POST', '/releases', '{"entityRef":'),
      raw('POST', '/releases', 'entityRef=checkout', 'application/x-www-form-urlencoded'),
      json('POST', '/releases', {}),
      json('POST', '/releases', [1]),
      json('POST', '/releases', { entityRef: 'component:default/checkout' }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: 5 }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: 'a b' }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: '1', color: 'red' }),
      json('POST', '/releases', { entityRef: 'component:default/', version: '1' }),
      json('POST', '/releases', { entityRef: 'component:default/nope', version: '1' }),
      json('POST', '/releases', { entityRef: 'component:default/legacy-reports', version: '1' }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: '1', plan: 'nope' }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: '1', plan: { steps: [{ weight: 50, minDurationSeconds: 1 }] } }),
      json('POST', '/releases', { entityRef: 'component:default/checkout', version: '1', metadata: [] }),
      raw('GET', '/releases/not-a-uuid'),
      raw('GET', `/releases/${id}`),
      raw('GET', '/releases?limit=0'),
      raw('GET', '/releases?state=lost'),
      json('POST', `/releases/${id}/rollback`, {}),
      json('POST', `/releases/${id}/explode`, {}),
      json('POST', `/releases/${id}/pause`, { reason: 7 }),
    ];
    const responses = await Promise.all(requests);
    const statuses = [];
    for (const res of responses) {
      const body = await res.json().catch(() => ({}));
      statuses.push(res.status);
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${JSON.stringify(body)}`);
      assert.ok(body?.error?.message?.length > 0, `no message with status ${res.status}`);
    }
    assert.equal((await api('GET', '/releases?limit=100')).body.totalCount, before);
    console.log(`malformed requests: ${responses.length} sent, statuses ${[...new Set(statuses)].sort().join('/')}, none 5xx, no release created`);
  });

  await t.test('permissions: the guest owns checkout (2xx on every mutating route), not search (403 on every one); the auditor records each', async () => {
    const slow = { steps: [{ weight: 10, minDurationSeconds: 600 }, { weight: 100, minDurationSeconds: 600 }] };
    const theirs = await create('search', '6.0.0', slow);
    // Started first, so the driver's own first save (pending > running) cannot look like the guest's doing.
    const before = await waitForState(theirs.id, 'running', 30_000);
    const denied = {
      'POST /releases': await api('POST', '/releases', { entityRef: 'component:default/search', version: '6.0.1' }),
      'POST /risk/assess': await api('POST', '/risk/assess', { entityRef: 'component:default/search', version: '6.0.1' }),
      'POST /risk/history': await api('POST', '/risk/history', { deployments: [{ entityRef: 'component:default/search', at: new Date().toISOString(), outcome: 0, features: {} }] }),
      'POST /risk/train': await api('POST', '/risk/train', {}),
    };
    for (const action of ['pause', 'resume', 'promote', 'rollback']) {
      denied[`POST /releases/:id/${action}`] = await api('POST', `/releases/${theirs.id}/${action}`, { reason: 'not mine' });
    }
    for (const [route, res] of Object.entries(denied)) {
      assert.equal(res.status, 403, `${route}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, /^Not allowed: releases\./, route);
    }
    const untouched = await release(theirs.id);
    const moves = r => ({ state: r.state, step: r.currentStep, weight: r.canaryWeight });
    assert.deepEqual(moves(untouched), moves(before), 'the guest changed nothing');
    assert.equal(untouched.timeline.filter(e => e.actor.startsWith('user:')).length, 0, 'no action of the guest on the timeline');

    const mine = await api('POST', '/releases', { entityRef: 'component:default/checkout', version: '6.1.0', plan: slow });
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    assert.equal(mine.body.owner, 'group:default/team-checkout');
    await waitForState(mine.body.id, 'running', 30_000);
    const allowed = {};
    for (const action of ['pause', 'resume', 'promote', 'rollback']) {
      const res = await api('POST', `/releases/${mine.body.id}/${action}`, { reason: `owner ${action}` });
      allowed[action] = res.status;
      assert.equal(res.status, 200, `${action}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await api('POST', '/risk/assess', { entityRef: 'component:default/checkout', version: '6.1.1' })).status, 200);
    // The pipeline's static token gets what its accessRestrictions grant (the integration config):
    // releases, yes; the risk model's history and training, no.
    const history = { deployments: [{ entityRef: 'component:default/checkout', at: new Date().toISOString(), outcome: 0, features: {} }] };
    for (const [route, body] of [['/risk/history', history], ['/risk/train', {}]]) {
      const res = await pipeline('POST', route, body);
      assert.equal(res.status, 403, `the pipeline token on ${route}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, /^Not allowed: releases\.risk\.manage/);
    }
    assert.equal((await pipeline('POST', `/releases/${theirs.id}/rollback`, { reason: 'clean up' })).status, 200);
    await waitForState(theirs.id, 'rolled_back', 30_000);
    // The owner's rollback ends once the canary is scaled down and the recovery is measured.
    await waitForState(mine.body.id, 'rolled_back', 30_000);

    // The auditor's records of the guest's actions, in the backend's log: each denial and each action.
    const plain = () => logOf().join('').replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    const guestAudit = () => plain().filter(line =>
      line.includes('isAuditEvent') && line.includes('"actorId":"user:default/guest"') && /status\W+(failed|succeeded)/.test(line) &&
      /eventId\W+(release-(create|pause|resume|promote|rollback)|risk-(history-import|train))/.test(line));
    const audit = await until('the audit records', () => (guestAudit().length >= 11 ? guestAudit() : undefined), 10_000);
    const failed = audit.filter(line => /status\W+failed/.test(line)).length;
    assert.ok(failed >= 7, `${failed} failed audit records`);
    const decisions = plain().filter(line => line.includes('eventId') && line.includes('release-decision') && line.includes(mine.body.id));
    assert.ok(decisions.some(line => line.includes('"action":"rolled_back"')), 'the rollback decision is audited');
    console.log(`permissions: 403 on ${Object.keys(denied).length} mutating routes for a non-owner, 200 on ${Object.keys(allowed).length} actions and the risk preview for the owner; the audit log holds ${audit.length} completed records of the guest's actions so far (${failed} failed: these denials and the malformed requests before)`);
  });

  await t.test('the scaffolder: a real dry run of the new-service template writes a catalog-info.yaml with valid Release Pilot annotations; an unknown target is a 400', async () => {
    const dir = path.join(root, 'examples/templates/releases-new-service');
    const template = parseYaml(fs.readFileSync(path.join(dir, 'template.yaml'), 'utf8'));
    const directoryContents = ['template.yaml', 'content/catalog-info.yaml', 'content/index.js'].map(file => ({
      path: file,
      base64Content: fs.readFileSync(path.join(dir, file)).toString('base64'),
    }));
    const dryRun = async target => {
      const res = await fetch(`${BASE}/api/scaffolder/v2/dry-run`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${currentToken()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ template, values: { name: 'basket', owner: 'group:default/team-checkout', target, plan: 'careful' }, secrets: {}, directoryContents }),
      });
      return { status: res.status, body: await res.json() };
    };
    const ok = await dryRun('simulator');
    assert.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 500));
    const file = ok.body.directoryContents.find(f => f.path === 'catalog-info.yaml');
    const written = parseYaml(Buffer.from(file.base64Content, 'base64').toString('utf8'));
    assert.equal(written.metadata.name, 'basket');
    assert.deepEqual(written.metadata.annotations, { 'release-pilot.io/target': 'simulator', 'release-pilot.io/plan': 'careful' });
    const known = (await api('GET', '/targets')).body;
    assert.ok(known.targets.includes(written.metadata.annotations['release-pilot.io/target']));
    assert.ok(known.plans.includes(written.metadata.annotations['release-pilot.io/plan']));
    const steps = ok.body.log.filter(l => l.body.status).map(l => `${l.body.stepId}:${l.body.status}`);
    assert.ok(steps.includes('releases:completed'), steps.join(' '));
    const bad = await dryRun('nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.message, "Unknown Release Pilot target 'nope'; configured targets: simulator, simulator-regions");
    console.log(`scaffolder: dry run of ${template.metadata.name}: steps ${steps.join(' ')}; catalog-info.yaml annotations ${JSON.stringify(written.metadata.annotations)}; unknown target: 400 "${bad.body.error.message}"`);
  });

  await t.test('a backend killed with SIGKILL mid-release continues that release from the same step', async () => {
    const r = await create('search', '5.2.0', 'slow');
    const before = await until('search to reach step 3', async () => {
      const now = await release(r.id);
      return now.currentStep === 2 ? now : undefined;
    }, 120_000).catch(async error => {
      const now = await release(r.id);
      throw new Error(`${error.message.split('\n')[0]}; the release is ${now.state} at step ${now.currentStep + 1}${now.reason ? `: ${now.reason}` : ''}; last verdict: ${now.verdict?.summary ?? 'none'}`);
    });
    kill(backend);
    await until('the backend to die', async () => {
      try { await fetch(`${BASE}/api/releases/health`); return false; } catch { return true; }
    }, 30_000);
    const killedAt = Date.now();

    backend = startBackend();
    await ready();
    const resumed = await release(r.id);
    assert.equal(resumed.state, 'running');
    assert.ok(resumed.currentStep >= before.currentStep, `step ${resumed.currentStep} < ${before.currentStep}`);
    const done = await waitForState(r.id, 'succeeded', 180_000);
    const reconciled = done.timeline.filter(e => e.type === 'weight_reconciled');
    assert.equal(reconciled.length, 1, 'the restarted driver put the router back to the stored weight');
    assert.equal(reconciled[0].data.to, before.canaryWeight);
    const starts = done.timeline.filter(e => e.type === 'started').length;
    assert.equal(starts, 1, 'the release was started once, not again after the restart');
    const weights = done.timeline.filter(e => e.type === 'step_advanced').map(e => e.data.weight);
    assert.deepEqual(weights, [5, 10, 25, 100]);
    console.log(`restart: killed at step ${before.currentStep + 1} (${before.canaryWeight}%), continued from step ${resumed.currentStep + 1}, succeeded ${(eventAt(done, 'succeeded') - killedAt) / 1000}s after the kill`);
  });

  await t.test('two replicas on one PostgreSQL: when the driving one is killed the other takes the release over and finishes it, no step twice', async () => {
    const r = await create('payments', '5.3.0', 'slow');
    await until('payments to reach step 2', async () => (await release(r.id)).currentStep >= 1, 60_000);
    // The second replica starts while the first holds the release's lease: it serves the API but may not drive it.
    const second = start([path.join(root, 'test/integration/app-config.integration.yaml'), path.join(root, 'test/integration/app-config.replica.yaml')]);
    const b = releasesApi('http://localhost:7018', () => second.log);
    try {
      await b.ready();
      await new Promise(resolve => setTimeout(resolve, 3000));
      assert.equal((await release(r.id)).timeline.filter(e => e.type === 'taken_over').length, 0, 'no takeover while the first replica lives');
      kill(backend);
      const killedAt = Date.now();
      const takeover = await poll('the second replica to take the release over', async () => (await b.release(r.id)).timeline.find(e => e.type === 'taken_over'), 30_000, () => second.log);
      const afterKill = (Date.parse(takeover.at) - killedAt) / 1000;
      const done = await b.waitForState(r.id, 'succeeded', 180_000);
      const steps = done.timeline.filter(e => e.type === 'step_advanced').map(e => e.data.step);
      assert.deepEqual(steps, [...new Set(steps)], 'no step twice');
      assert.equal(done.timeline.filter(e => e.type === 'started').length, 1);
      assert.ok(afterKill <= 5, `taken over ${afterKill}s after the kill`);
      console.log(`replicas: ${takeover.message}; ${afterKill.toFixed(1)}s after the SIGKILL; the survivor finished the release (steps ${steps.join(', ')}, each once)`);
    } finally {
      backend = second;
    }
  });
});
