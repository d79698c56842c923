import { mockServices } from '@backstage/backend-test-utils';
import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import {
  CHECKOUT_INCIDENT_FAULT,
  DEFAULT_BASELINE,
  DeployFailure,
  SimulatedDeployer,
  SimulatedFleet,
} from '@release-pilot/plugin-releases-backend-module-simulator';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { createTestDatabases } from '../__testUtils__/databases';
import { DEFAULT_WATCH_OPTIONS, FixedRuleJudge, JudgeCatalog, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';

jest.setTimeout(60_000);

/*
 * The whole lifecycle through the real driver, store and engine, on the simulated fleet with its
 * simulated deployer, in virtual time: each tick the test also reads what the router gives the
 * canary and what each side runs, so it checks where traffic went while the sides changed.
 */

const PLAN: ReleasePlan = {
  name: 'short',
  steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 5, minCanaryRequests: 50 })),
};

const databases = createTestDatabases();

async function setup(failures: DeployFailure[] = [], deployTimeoutSeconds = 600) {
  const knex = await databases.init('SQLITE_3');
  const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
  const clock = new VirtualClock('2026-01-01T00:00:00.000Z');
  const now = () => clock.now().getTime();
  const deployer = new SimulatedDeployer({ deploySeconds: 2, readySeconds: 1, failures, now });
  const fleet = new SimulatedFleet({ seed: 3, rps: 2000, baseline: DEFAULT_BASELINE, faults: [CHECKOUT_INCIDENT_FAULT], now }, deployer);
  const targets = new TargetRegistry();
  targets.add({ name: 'simulator', trafficRouter: fleet, metricProvider: fleet, deployer, deployTimeoutSeconds });
  const driver = new ReleaseDriver({
    store,
    targets,
    judges: JudgeCatalog.of(new FixedRuleJudge()),
    watch: new WatchJudge({ ...DEFAULT_WATCH_OPTIONS, historyDays: 2 }),
    clock,
    logger: mockServices.logger.mock(),
    owner: 'test',
    options: { analysisWindowSeconds: 30, leaseSeconds: 5, engine: { maxConsecutiveProviderErrors: 3 } },
  });
  return { store, clock, fleet, deployer, driver };
}

type Setup = Awaited<ReturnType<typeof setup>>;

interface Observed {
  state: Release['state'];
  weight: number;
  canary?: string;
  canaryReady: boolean;
  stable?: string;
}

/** Creates a release and ticks once a second until it ends (or `until` says so), recording each tick. */
async function run(s: Setup, version: string, options: { previousVersion?: string; until?: (r: Release) => boolean; seconds?: number } = {}) {
  const at = s.clock.now().toISOString();
  const release = makeRelease({ id: `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`, version, plan: PLAN, createdAt: at, updatedAt: at, deployMode: 'deployer', previousVersion: options.previousVersion });
  await s.store.createRelease(release, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
  const seen: Observed[] = [];
  const context = { entityRef: release.entityRef, releaseId: release.id, version, annotations: {} };
  for (let i = 0; i < (options.seconds ?? 200); i++) {
    s.clock.advance(1);
    await s.driver.tick();
    const now = await s.store.getRelease(release.id);
    const serving = s.deployer.serving(release.entityRef) ?? { stable: undefined, canary: undefined, canaryReady: false };
    seen.push({ state: now.state, weight: await s.fleet.getCanaryWeight(context), canary: serving.canary, canaryReady: serving.canaryReady, stable: serving.stable });
    if (options.until?.(now) || ['succeeded', 'rolled_back', 'failed'].includes(now.state)) break;
  }
  return { release: await s.store.getRelease(release.id), seen, timeline: (await s.store.listEvents(release.id)).map(e => e.type) };
}

/** The canary never has traffic unless it runs the release's version and is ready. */
function expectNoUnreadyTraffic(seen: Observed[], version: string) {
  const bad = seen.filter(o => o.weight > 0 && (o.canary !== version || !o.canaryReady));
  expect(bad).toEqual([]);
}

describe('the release lifecycle through the driver, on the simulated fleet and deployer', () => {
  it('deploys the canary at 0 %, runs the steps, promotes the stable side and scales the canary down', async () => {
    const s = await setup();
    const { release, seen, timeline } = await run(s, '2.0.0');
    expect(release.state).toBe('succeeded');
    expect(timeline).toEqual([
      'created', 'deploy_started', 'canary_deployed', 'started', 'step_advanced', 'step_advanced',
      'promotion_started', 'stable_deployed', 'canary_scaled_down', 'succeeded',
    ]);
    expectNoUnreadyTraffic(seen, '2.0.0');
    // While deploying, the canary held 0 %; while the stable side changed, the canary held 100 %.
    expect(seen.filter(o => o.state === 'deploying').every(o => o.weight === 0)).toBe(true);
    expect(seen.filter(o => o.state === 'promoting' && o.stable !== '2.0.0').every(o => o.weight === 100)).toBe(true);
    expect(seen.at(-1)).toEqual({ state: 'succeeded', weight: 0, canary: undefined, canaryReady: true, stable: '2.0.0' });
    expect(release.sides).toMatchObject({ stable: '2.0.0', canaryUp: false });
  });

  it('rolls a faulty canary back, scales it down and reports the recovery; the stable side keeps the previous version', async () => {
    const s = await setup();
    await run(s, '2.0.0');
    const { release, seen, timeline } = await run(s, '2.1.0-faulty', { previousVersion: '2.0.0' });
    expect(release.state).toBe('rolled_back');
    expect(release.previousVersion).toBe('2.0.0');
    expect(timeline.slice(-5)).toEqual(['rollback_started', 'traffic_restored', 'canary_scaled_down', 'recovered', 'rolled_back']);
    // Held to the watch's model of the service's own history (the simulated fleet keeps two days here).
    expect(release.recovery).toMatchObject({
      status: 'recovered',
      level: { source: 'history' },
      summary: expect.stringMatching(/^error rate 0\.?\d*% \(usually 0\.0\d+% at this time of day\), latency p95 1\d\d ms \(usually p95 1\d\d ms at this time of day\) over \d+ requests; yardstick: 2-day history$/),
    });
    expect(release.recovery!.seconds).toBeLessThan(10);
    expectNoUnreadyTraffic(seen, '2.1.0-faulty');
    expect(seen.at(-1)).toMatchObject({ weight: 0, canary: undefined, stable: '2.0.0' });
  });

  it('rolls a succeeded release back by putting the previous version on the stable side', async () => {
    const s = await setup();
    await run(s, '2.0.0');
    const { release: second } = await run(s, '2.1.0', { previousVersion: '2.0.0' });
    expect(second.state).toBe('succeeded');
    expect(s.deployer.serving(second.entityRef)!.stable).toBe('2.1.0');
    const routed = jest.spyOn(s.fleet, 'setCanaryWeight');
    await s.driver.applyUserAction(second.id, 'rollback', 'user:default/alice', 'customers complain');
    for (let i = 0; i < 60 && (await s.store.getRelease(second.id)).state !== 'rolled_back'; i++) {
      s.clock.advance(1);
      await s.driver.tick();
    }
    const done = await s.store.getRelease(second.id);
    expect(done.state).toBe('rolled_back');
    expect(s.deployer.serving(second.entityRef)!.stable).toBe('2.0.0');
    // The router is told which version the traffic goes to: the canary that serves 100 % runs 2.0.0 again.
    expect(routed.mock.calls.map(([context, weight]) => [weight, context.version])).toEqual([[0, '2.1.0'], [100, '2.0.0'], [0, '2.0.0']]);
    // The previous version goes onto the canary at 0 %, serves 100 % while the stable side gets it back, then stable serves again.
    expect((await s.store.listEvents(second.id)).map(e => e.type).slice(-7)).toEqual([
      'rollback_started', 'canary_deployed', 'stable_deployed', 'traffic_restored', 'canary_scaled_down', 'recovered', 'rolled_back',
    ]);
  });

  it('ends a release whose canary cannot be deployed before it gets any traffic', async () => {
    const s = await setup([{ versionPattern: /-broken$/, kind: 'fails' }], 20);
    const { release, seen, timeline } = await run(s, '2.0.0-broken');
    expect(release.state).toBe('rolled_back');
    expect(release.reason).toMatch(/Deploying 2.0.0-broken to the canary side did not finish within 20 s: simulated deploy failure/);
    expect(seen.every(o => o.weight === 0)).toBe(true);
    expect(timeline).toEqual(['created', 'deploy_started', 'deploy_error', 'rollback_started', 'traffic_restored', 'canary_scaled_down', 'rolled_back']);
  });

  it('never gives traffic to a canary that does not become ready', async () => {
    const s = await setup([{ versionPattern: /-cold$/, kind: 'neverReady' }], 30);
    const { release, seen } = await run(s, '2.0.0-cold');
    expect(release.state).toBe('rolled_back');
    expect(release.reason).toMatch(/did not finish within 30 s \(2.0.0-cold running, waiting for its readiness check\)/);
    expect(seen.every(o => o.weight === 0)).toBe(true);
  });

  it('sets a weight that was saved but never reached the router before it scales the canary down (a replica that died in between)', async () => {
    const s = await setup();
    const set = s.fleet.setCanaryWeight.bind(s.fleet);
    let lost = 0;
    jest.spyOn(s.fleet, 'setCanaryWeight').mockImplementation(async (context, weight) => {
      // Traffic back to stable after the promotion is saved, and the call is lost once.
      if (weight === 0 && lost === 0 && (await s.store.getRelease(context.releaseId)).state === 'promoting') {
        lost++;
        throw new Error('the replica died before this call went out');
      }
      return set(context, weight);
    });
    const { release, seen, timeline } = await run(s, '2.0.0', { seconds: 60 });
    expect(lost).toBe(1);
    expect(release.state).toBe('succeeded');
    expect(timeline.slice(-4)).toEqual(['stable_deployed', 'weight_reconciled', 'canary_scaled_down', 'succeeded']);
    expect(seen.at(-1)).toEqual({ state: 'succeeded', weight: 0, canary: undefined, canaryReady: true, stable: '2.0.0' });
  });

  it('resumes a deploy after a crash: another driver carries the persisted operation on', async () => {
    const s = await setup();
    const { release } = await run(s, '2.0.0', { until: r => r.state === 'deploying' });
    expect(release.operation).toMatchObject({ kind: 'deployCanary', version: '2.0.0' });
    // The first replica dies; the second one takes the release over after the lease.
    const other = new ReleaseDriver({ ...(s.driver as any).deps, owner: 'other' });
    for (let i = 0; i < 120 && !['succeeded', 'rolled_back'].includes((await s.store.getRelease(release.id)).state); i++) {
      s.clock.advance(1);
      await other.tick();
    }
    const done = await s.store.getRelease(release.id);
    expect(done.state).toBe('succeeded');
    expect((await s.store.listEvents(release.id)).map(e => e.type)).toContain('taken_over');
    expect(s.deployer.serving(release.entityRef)!.stable).toBe('2.0.0');
  });
});
