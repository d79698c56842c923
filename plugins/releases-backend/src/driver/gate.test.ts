import { mockServices } from '@backstage/backend-test-utils';
import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { DEFAULT_BASELINE, SimulatedDeployer, SimulatedFleet, SimulatedResilience } from '@release-pilot/plugin-releases-backend-module-simulator';
import { DEFAULT_GATE_OPTIONS, DEFAULT_WATCH_OPTIONS, FixedRuleJudge, JudgeCatalog, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { createTestDatabases } from '../__testUtils__/databases';
import { ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';

jest.setTimeout(60_000);

/*
 * The resilience gate through the real driver, store and engine, in virtual time: the simulated
 * fleet and deployer, and the simulator's fault injector and synthetic load. Each tick the test reads
 * the router's weight and the injector's active fault.
 */

const PLAN: ReleasePlan = {
  name: 'gated',
  steps: [10, 100].map(weight => ({ weight, minDurationSeconds: 5, minCanaryRequests: 50 })),
  gate: { ...DEFAULT_GATE_OPTIONS, experiments: [{ name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 20, recoverySeconds: 30 }] },
};

const databases = createTestDatabases();

async function setup() {
  const knex = await databases.init('SQLITE_3');
  const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
  const clock = new VirtualClock('2026-12-06T10:00:00.000Z');
  const now = () => clock.now().getTime();
  const deployer = new SimulatedDeployer({ deploySeconds: 2, readySeconds: 1, failures: [], now });
  const fleet = new SimulatedFleet({ seed: 3, rps: 2000, baseline: DEFAULT_BASELINE, faults: [], now }, deployer);
  const gate = new SimulatedResilience({ rps: 50, seed: 5, now });
  const targets = new TargetRegistry();
  targets.add({ name: 'simulator', trafficRouter: fleet, metricProvider: fleet, deployer, resilience: { injector: gate, load: gate } });
  const driver = (owner: string) =>
    new ReleaseDriver({
      store,
      targets,
      judges: JudgeCatalog.of(new FixedRuleJudge()),
      watch: new WatchJudge({ ...DEFAULT_WATCH_OPTIONS, historyDays: 2 }),
      clock,
      logger: mockServices.logger.mock(),
      owner,
      options: { analysisWindowSeconds: 30, leaseSeconds: 5, engine: { maxConsecutiveProviderErrors: 3 } },
    });
  return { store, clock, fleet, gate, driver: driver('a'), driverB: driver('b') };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function create(s: Setup, version: string): Promise<Release> {
  const at = s.clock.now().toISOString();
  const release = makeRelease({ version, plan: PLAN, createdAt: at, updatedAt: at, deployMode: 'deployer', previousVersion: '1.0.0' });
  await s.store.createRelease(release, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
  return release;
}

/** Ticks once a second until `until` or the release ends; records the router's weight and the fault each tick. */
async function run(s: Setup, release: Release, until: (r: Release) => boolean = () => false, driver = s.driver) {
  const seen: Array<{ state: string; weight: number; fault?: string }> = [];
  const context = { entityRef: release.entityRef, releaseId: release.id, version: release.version, annotations: {} };
  for (let i = 0; i < 300; i++) {
    s.clock.advance(1);
    await driver.tick();
    const now = await s.store.getRelease(release.id);
    seen.push({ state: now.state, weight: await s.fleet.getCanaryWeight(context), fault: s.gate.active(release.id)?.id });
    if (until(now) || !['pending', 'deploying', 'gating', 'running'].includes(now.state)) break;
  }
  return { release: await s.store.getRelease(release.id), seen, timeline: (await s.store.listEvents(release.id)).map(e => e.type) };
}

describe('the resilience gate through the driver', () => {
  it('puts the fault on while the experiment asks, with no traffic, and starts the steps once passed', async () => {
    const s = await setup();
    const { release, seen, timeline } = await run(s, await create(s, '2.0.0'), r => r.state === 'running' && r.currentStep === 0);
    expect(release.state).toBe('running');
    expect(timeline).toEqual(['created', 'deploy_started', 'canary_deployed', 'gate_started', 'fault_injected', 'fault_removed', 'experiment_passed', 'gate_passed', 'started']);
    const gating = seen.filter(o => o.state === 'gating');
    expect(gating.every(o => o.weight === 0)).toBe(true);
    // 10 s of steady state, then the fault for its 20 s, then off.
    expect(gating.filter(o => o.fault).length).toBeGreaterThanOrEqual(19);
    expect(gating.filter(o => o.fault).length).toBeLessThanOrEqual(21);
    expect(seen.at(-1)).toMatchObject({ weight: 10, fault: undefined });
  });

  it('blocks a fragile version before any production request, clears the fault and scales the canary down', async () => {
    const s = await setup();
    const { release, seen, timeline } = await run(s, await create(s, '2.0.0-fragile'));
    expect(release.state).toBe('rolled_back');
    expect(release.reason).toMatch(/^resilience gate: dependency \+200 ms: Errors under dependency \+200 ms: canary/);
    expect(seen.every(o => o.weight === 0)).toBe(true);
    expect(seen.at(-1)!.fault).toBeUndefined();
    expect(timeline).toEqual([
      'created', 'deploy_started', 'canary_deployed', 'gate_started', 'fault_injected', 'experiment_failed', 'fault_removed', 'gate_failed', 'rollback_started', 'traffic_restored', 'canary_scaled_down', 'rolled_back',
    ]);
  });

  it('puts no fault on a canary that takes production traffic: the experiment is inconclusive and the release pauses', async () => {
    const s = await setup();
    const created = await create(s, '2.0.0');
    await run(s, created, r => r.state === 'gating' && r.resilience?.experiments[0].phaseSeconds === 5);
    // Someone moves users onto the canary behind Release Pilot's back, before the fault.
    const context = { entityRef: created.entityRef, releaseId: created.id, version: created.version, annotations: {} };
    await s.fleet.setCanaryWeight(context, 5);
    const { release, seen } = await run(s, created, r => r.state === 'paused');
    expect(release.state).toBe('paused');
    expect(release.resilience?.experiments[0].verdict).toBe('inconclusive');
    expect(JSON.stringify(release.resilience)).toContain('the canary takes 5 % of production traffic');
    expect(seen.every(o => o.fault === undefined)).toBe(true);
    expect(s.gate.log.filter(l => l.action === 'inject')).toEqual([]);
  });

  it('a person rolling back mid-fault takes the fault and the load off at once', async () => {
    const s = await setup();
    const created = await create(s, '2.0.0');
    const { release } = await run(s, created, r => r.state === 'gating' && r.resilience?.experiments[0].phase === 'fault' && r.resilience.experiments[0].phaseSeconds >= 3);
    expect(s.gate.active(release.id)).toBeDefined();
    await s.driver.applyUserAction(release.id, 'rollback', 'user:default/alice', 'not today');
    expect(s.gate.active(release.id)).toBeUndefined();
    expect(s.gate.log.at(-1)).toMatchObject({ action: 'clear', releaseId: release.id });
  });

  it('a replica that takes a release over mid-fault keeps the same fault on, and its fault has a TTL if nobody does', async () => {
    const s = await setup();
    const created = await create(s, '2.0.0');
    await run(s, created, r => r.resilience?.experiments[0].phase === 'fault' && r.resilience.experiments[0].phaseSeconds >= 3);
    const fault = s.gate.active(created.id)!;
    // Injected at the fault's start: it ends by itself at most 30 s after the experiment's planned end.
    expect(fault.ttlSeconds).toBe(20 + 30);
    // Replica a dies. Past its lease, b takes over: the same fault (same id, not injected twice).
    s.clock.advance(6);
    const injected = s.gate.log.filter(l => l.action === 'inject').length;
    const { release, timeline } = await run(s, created, r => r.state === 'running', s.driverB);
    expect(timeline).toContain('taken_over');
    expect(release.state).toBe('running');
    expect(s.gate.log.filter(l => l.action === 'inject').length).toBe(injected);
    // With no replica at all, the fault goes away by itself once its TTL has passed.
    const context = { entityRef: 'component:default/other', releaseId: 'lonely', version: '1.0.0', annotations: {} };
    await s.gate.inject(context, { id: 'lonely/0', experiment: PLAN.gate!.experiments[0], ttlSeconds: 5 });
    s.clock.advance(4);
    expect(s.gate.active('lonely')?.id).toBe('lonely/0');
    s.clock.advance(2);
    expect(s.gate.active('lonely')).toBeUndefined();
  });
});
