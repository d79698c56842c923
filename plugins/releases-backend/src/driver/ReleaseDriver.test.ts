import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { randomUUID } from 'node:crypto';
import { MetricProvider, ReleaseTarget, TrafficRouter } from '@release-pilot/plugin-releases-node';
import {
  CHECKOUT_INCIDENT_FAULT,
  DEFAULT_BASELINE,
  SimulatedFleet,
  SimulatedFleetOptions,
} from '@release-pilot/plugin-releases-backend-module-simulator';
import { makeRelease, makeStats } from '@release-pilot/plugin-releases-core/testUtils';
import { AnalysisLimits, DEFAULT_WATCH_OPTIONS, FixedRuleJudge, Judge, JudgeCatalog, SequentialJudge, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver, ReleaseOutbox } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';
import { ReleasesService } from '../service/ReleasesService';
import { createTestDatabases } from '../__testUtils__/databases';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ChannelDelivery } from '../notify/channels';
import { ReleaseNotifier } from '../notify/ReleaseNotifier';

jest.setTimeout(60_000);

const DEMO_PLAN: ReleasePlan = {
  name: 'demo',
  steps: [1, 5, 10, 25, 50, 100].map(weight => ({ weight, minDurationSeconds: 6, minCanaryRequests: 50 })),
};

const databases = createTestDatabases();
let databaseId: TestDatabaseId = 'SQLITE_3';

async function setup(
  options: {
    router?: TrafficRouter;
    metrics?: MetricProvider;
    seed?: number;
    fleet?: Partial<SimulatedFleetOptions>;
    /** Policies of the simulator target (as `releases.targets.simulator` sets them). */
    targets?: { simulator: Pick<ReleaseTarget, 'maxConsecutiveProviderErrors'> };
    judge?: Judge;
    limits?: AnalysisLimits;
    /** How often a tick that only measured writes the judge's state (PostgreSQL); the store's default if absent. */
    judgeStateSeconds?: number;
  } = {},
) {
  const knex = await databases.init(databaseId);
  const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }), judgeStateSeconds: options.judgeStateSeconds });
  const clock = new VirtualClock('2026-01-01T00:00:00.000Z');
  const fleet = new SimulatedFleet({
    seed: options.seed ?? 3,
    rps: 2000,
    baseline: DEFAULT_BASELINE,
    faults: [CHECKOUT_INCIDENT_FAULT],
    now: () => clock.now().getTime(),
    ...options.fleet,
  });
  const makeDriver = (
    router: TrafficRouter = options.router ?? fleet,
    metrics: MetricProvider = options.metrics ?? fleet,
    owner = 'test',
    outbox?: ReleaseOutbox,
    driverStore: ReleasesStore = store,
  ) => {
    const targets = new TargetRegistry();
    targets.add({ name: 'simulator', trafficRouter: router, metricProvider: metrics, ...options.targets?.simulator });
    return new ReleaseDriver({
      store: driverStore,
      targets,
      judges: JudgeCatalog.of(options.judge ?? new FixedRuleJudge(), options.limits),
      watch: new WatchJudge({ ...DEFAULT_WATCH_OPTIONS, historyDays: 2 }),
      clock,
      logger: mockServices.logger.mock(),
      owner,
      outbox,
      options: {
        analysisWindowSeconds: 30,
        leaseSeconds: 2,
        engine: { maxConsecutiveProviderErrors: 3 },
      },
    });
  };
  /** Another process's view of the same database (nothing of this one's in memory). */
  const otherStore = () => ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: true } }) });
  return { store, clock, fleet, driver: makeDriver(), makeDriver, otherStore };
}

const targetOf = (r: { id: string; entityRef: string; version: string }) => ({ entityRef: r.entityRef, releaseId: r.id, version: r.version, annotations: {} });

async function createRelease(store: ReleasesStore, version: string, at: string, plan: ReleasePlan = DEMO_PLAN) {
  const release = makeRelease({ version, plan, createdAt: at, updatedAt: at });
  await store.createRelease(release, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
  return release;
}

describe.each(databases.eachSupportedId())('on %s', id => {
  beforeAll(() => {
    databaseId = id;
  });

describe('ReleaseDriver on the simulated fleet, in virtual time', () => {
  it('takes a healthy release through every step to success', async () => {
    const { store, clock, fleet, driver } = await setup();
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    const weights: number[] = [];
    for (let i = 0; i < 80; i++) {
      clock.advance(1);
      await driver.tick();
      weights.push(await fleet.getCanaryWeight(targetOf(release)));
      if ((await store.getRelease(release.id)).state === 'succeeded') break;
    }
    const done = await store.getRelease(release.id);
    expect(done.state).toBe('succeeded');
    expect([...new Set(weights)]).toEqual([1, 5, 10, 25, 50, 100]);
    const timeline = await store.listEvents(release.id);
    expect(timeline.map(e => e.type)).toEqual([
      'created', 'started', 'step_advanced', 'step_advanced', 'step_advanced', 'step_advanced', 'step_advanced', 'succeeded',
    ]);
    expect((await store.listSteps(release.id)).map(s => s.weight)).toEqual([1, 5, 10, 25, 50, 100]);
  });

  it('rolls a -faulty release back within 10 s of its first traffic, naming the metric and both values', async () => {
    const { store, clock, fleet, driver } = await setup();
    const release = await createRelease(store, '2.1.0-faulty', clock.now().toISOString());
    let firstTraffic: Date | undefined;
    for (let i = 0; i < 30; i++) {
      clock.advance(1);
      await driver.tick();
      if (!firstTraffic && (await fleet.getCanaryWeight(targetOf(release))) > 0) firstTraffic = clock.now();
      if ((await store.getRelease(release.id)).state === 'rolled_back') break;
    }
    const done = await store.getRelease(release.id);
    expect(done.state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
    const secondsToRollback = (new Date(done.finishedAt!).getTime() - firstTraffic!.getTime()) / 1000;
    expect(secondsToRollback).toBeLessThanOrEqual(10);
    expect(done.reason).toMatch(/^P95 latency [\d,]+ ms vs \d+ ms baseline/);
    expect(done.latestVerdict?.evidence.find(e => e.metric === 'p95LatencyMs')?.outcome).toBe('fail');
  });

  it('counts the judge\'s failed measurements against the analysis\'s failureLimit: tolerated ones hold the step, one more rolls back', async () => {
    const { store, clock, driver } = await setup({ limits: { failureLimit: 2 } });
    const release = await createRelease(store, '2.1.0-faulty', clock.now().toISOString());
    for (let i = 0; i < 30 && (await store.getRelease(release.id)).state !== 'rolled_back'; i++) {
      clock.advance(1);
      await driver.tick();
    }
    const done = await store.getRelease(release.id);
    expect(done).toMatchObject({ state: 'rolled_back', currentStep: 0, measurements: { failed: 3 } });
    expect(done.reason).toMatch(/\(failed measurement 3, limit 2\)$/);
    const types = (await store.listEvents(release.id)).map(e => e.type);
    expect(types.filter(t => t === 'measurement_failed')).toHaveLength(2);
    expect(types.indexOf('measurement_failed')).toBeLessThan(types.indexOf('rollback_started'));
  });

  it('does not judge a new canary during the plan\'s warm-up, and judges without its samples after it', async () => {
    const { store, clock, fleet, driver } = await setup();
    const release = await createRelease(store, '2.1.0-faulty', clock.now().toISOString(), { ...DEMO_PLAN, warmUpSeconds: 10 });
    for (let i = 0; i < 30 && (await store.getRelease(release.id)).state !== 'rolled_back'; i++) {
      clock.advance(1);
      await driver.tick();
    }
    const done = await store.getRelease(release.id);
    expect(done.state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
    const samples = await store.listSamples(release.id);
    const warming = samples.filter(sample => sample.at <= done.warmUpUntil!);
    expect(warming.length).toBeGreaterThanOrEqual(8);
    expect(warming.every(sample => sample.verdict?.outcome === 'inconclusive' && /^Warming up: the canary's first 10 s are not judged/.test(sample.verdict?.summary))).toBe(true);
    expect(warming.every(sample => sample.stepIndex === 0 && sample.canary.requests > 0)).toBe(true);
    // The fault shows from the first request; the judge fails it on the requests after the warm-up only.
    const judged = samples.filter(sample => sample.at > done.warmUpUntil!);
    const failed = judged.findIndex(sample => sample.verdict?.outcome === 'fail');
    expect(failed).toBeGreaterThanOrEqual(0);
    // Samples keep each tick's outcome and summary; the failing verdict's evidence is the release's.
    expect(judged[failed].verdict!.evidence).toEqual([]);
    expect(done.latestVerdict?.at).toBe(judged[failed].at);
    const p95 = done.latestVerdict!.evidence.find(e => e.metric === 'p95LatencyMs')!;
    expect(p95.canaryRequests).toBe(judged.slice(0, failed + 1).reduce((sum, sample) => sum + sample.canary.requests, 0));
    expect(Date.parse(done.finishedAt!) - Date.parse(done.warmUpUntil!)).toBeLessThanOrEqual(5000);
  });

  it.each([
    ['fixed rules', () => new FixedRuleJudge()],
    ['sequential', () => new SequentialJudge()],
  ])('a canary slow only in its first seconds (a cold start) is rolled back without a warm-up and succeeds with one (%s judge)', async (_, judge) => {
    const coldStart = { versionPattern: /-cold$/, firstSeconds: 5, errorRate: 0.0002, latencyMs: { p50: 270, p95: 440 } };
    const outcome = async (warmUpSeconds: number) => {
      const { store, clock, driver } = await setup({ fleet: { faults: [coldStart] }, judge: judge() });
      const release = await createRelease(store, '2.2.0-cold', clock.now().toISOString(), { ...DEMO_PLAN, warmUpSeconds });
      for (let i = 0; i < 90 && ['pending', 'running'].includes((await store.getRelease(release.id)).state); i++) {
        clock.advance(1);
        await driver.tick();
      }
      return store.getRelease(release.id);
    };
    const cold = await outcome(0);
    expect(cold.state).toBe('rolled_back');
    expect(cold.reason).toMatch(/^P95 latency/);
    const warmed = await outcome(8);
    expect(warmed.state).toBe('succeeded');
  });

  it('continues from the same step after a restart, reconciling the router with the stored weight', async () => {
    const { store, clock, fleet, driver, makeDriver } = await setup();
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    while ((await store.getRelease(release.id)).currentStep < 2) {
      clock.advance(1);
      await driver.tick();
    }
    const before = await store.getRelease(release.id);
    expect(before.canaryWeight).toBe(10);

    // A new process: a router that lost its state, a new driver, the same database.
    const freshRouter = new SimulatedFleet({ seed: 3, rps: 2000, baseline: DEFAULT_BASELINE, faults: [] });
    const restarted = makeDriver(freshRouter, fleet);
    expect(await freshRouter.getCanaryWeight(targetOf(release))).toBe(0);
    clock.advance(31); // the old lease has expired
    await restarted.tick();
    const after = await store.getRelease(release.id);
    expect(after.currentStep).toBeGreaterThanOrEqual(2);
    expect(await freshRouter.getCanaryWeight(targetOf(release))).toBe(after.canaryWeight);
    expect(after.state).toBe('running');
    const reconciled = (await store.listEvents(release.id)).filter(e => e.type === 'weight_reconciled');
    expect(reconciled.map(e => e.message)).toEqual(['Reconciled canary weight from 0% to the stored 10%']);
    expect((await store.listEvents(release.id)).filter(e => e.type === 'started')).toHaveLength(1);
  });

  it('a replica that reads a judge state older than the latest tick judges the samples since again: its verdicts are those of a replica that never stopped', async () => {
    // One long step, the sequential judge (its state grows every tick), a canary slightly worse.
    const plan: ReleasePlan = { name: 'long', steps: [{ weight: 10, minDurationSeconds: 3600, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 60, minCanaryRequests: 0 }] };
    const run = async (restartAfter?: number) => {
      const { store, clock, makeDriver, fleet, otherStore } = await setup({ judge: new SequentialJudge(), fleet: { faults: [{ versionPattern: /-worse$/, errorRate: 0.0004, latencyMs: DEFAULT_BASELINE.latencyMs }] } });
      const release = await createRelease(store, '2.0.0-worse', clock.now().toISOString(), plan);
      let driver = makeDriver();
      let behind: string | undefined;
      for (let tick = 1; tick <= 26; tick++) {
        if (tick === restartAfter) {
          // A restarted process: nothing in memory, the release as the database holds it.
          behind = (await store.getRelease(release.id)).judgeStateAt;
          driver = makeDriver(fleet, fleet, 'test', undefined, await otherStore());
        }
        clock.advance(1);
        await driver.tick();
      }
      const done = await store.getRelease(release.id);
      expect(done.state).toBe('running');
      return { verdict: done.latestVerdict, behind };
    };
    const steady = await run();
    const restarted = await run(18);
    // On PostgreSQL the restarted process read a judge state some ticks old (SQLite writes every save whole).
    expect(restarted.behind !== undefined).toBe(databaseId.startsWith('POSTGRES'));
    expect(restarted.verdict!.evidence.map(e => e.eValue)).toEqual(steady.verdict!.evidence.map(e => e.eValue));
    expect(restarted.verdict).toEqual(steady.verdict);
  });

  it('a person\'s promotion of a release whose stored judge state is some ticks old carries the state the last tick left to the last step', async () => {
    const plan: ReleasePlan = { name: 'long', steps: [{ weight: 10, minDurationSeconds: 3600, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 3600, minCanaryRequests: 0 }] };
    const run = async (judgeStateSeconds: number) => {
      const { store, clock, driver } = await setup({ judge: new SequentialJudge(), judgeStateSeconds, fleet: { faults: [{ versionPattern: /-worse$/, errorRate: 0.0004, latencyMs: DEFAULT_BASELINE.latencyMs }] } });
      const release = await createRelease(store, '2.0.0-worse', clock.now().toISOString(), plan);
      for (let tick = 1; tick <= 26; tick++) {
        if (tick === 18) {
          // Straight to the last step: the ticks of the first step since the stored state must count.
          clock.advance(0.5);
          await driver.applyUserAction(release.id, 'promote', 'user:default/alice', 'hotfix');
        }
        clock.advance(1);
        await driver.tick();
      }
      const done = await store.getRelease(release.id);
      expect(done.currentStep).toBe(1);
      return done.latestVerdict!;
    };
    // Written every tick, the stored state is never behind: the reference.
    const reference = await run(0);
    const everyTenSeconds = await run(10);
    expect(everyTenSeconds.evidence.map(e => e.eValue)).toEqual(reference.evidence.map(e => e.eValue));
  });

  it('rolls back at once on a person\'s request', async () => {
    const { store, clock, fleet, driver } = await setup();
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await driver.tick();
    }
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(1);
    const rolledBack = await driver.applyUserAction(release.id, 'rollback', 'user:default/alice', 'wrong build');
    expect(rolledBack.state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
    expect(rolledBack.reason).toBe('requested by user:default/alice: wrong build');
  });

  it('decides a person\'s rollback again when a tick saved the release in between, instead of failing it', async () => {
    const { store, clock, fleet, driver } = await setup();
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await driver.tick();
    }
    // The release's driver saves a tick right after the person's action read the release.
    const save = store.saveRelease.bind(store);
    let raced = 0;
    jest.spyOn(store, 'saveRelease').mockImplementation(async (previous, next, events, options) => {
      if (raced++ === 0) {
        const current = await store.getRelease(previous.id);
        await save(current, { ...current, stepCanaryRequests: current.stepCanaryRequests + 1, revision: current.revision + 1 }, []);
      }
      return save(previous, next, events, options);
    });
    const rolledBack = await driver.applyUserAction(release.id, 'rollback', 'user:default/alice', 'wrong build');
    expect(raced).toBeGreaterThan(1);
    expect(rolledBack.state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
    expect((await store.listEvents(release.id)).filter(e => e.type === 'rollback_started')).toHaveLength(1);
  });

  it('rolls back after consecutive metric provider errors, and retries a rollback the router refuses until it succeeds', async () => {
    const failingMetrics: MetricProvider = { getSample: async () => { throw new Error('metrics unavailable'); } };
    const { store, clock, driver } = await setup({ metrics: failingMetrics });
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      await driver.tick();
    }
    const done = await store.getRelease(release.id);
    expect(done.state).toBe('rolled_back');
    expect(done.reason).toMatch(/3 provider errors in a row, last: metrics unavailable/);

    let weight = 0;
    let routerDown = true;
    const brokenRouter: TrafficRouter = {
      setCanaryWeight: async (_c, w) => {
        if (w === 0 && routerDown) throw new Error('router unreachable');
        weight = w;
      },
      getCanaryWeight: async () => weight,
    };
    const second = await setup({ router: brokenRouter });
    const r2 = await createRelease(second.store, '2.0.1', second.clock.now().toISOString());
    second.clock.advance(1);
    await second.driver.tick();
    const askedAt = second.clock.now().toISOString();
    await second.driver.applyUserAction(r2.id, 'rollback', 'user:default/alice');
    expect((await second.store.getRelease(r2.id)).state).toBe('rolling_back');
    // Retried with backoff: 1 s, 2 s, 4 s after each failed attempt; never given up.
    const attemptsAfter: number[] = [];
    for (let i = 0; i < 12; i++) {
      second.clock.advance(1);
      await second.driver.tick();
      attemptsAfter.push((await second.store.getRelease(r2.id)).consecutiveProviderErrors);
    }
    expect(attemptsAfter).toEqual([2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4]);
    const pending = await second.store.getRelease(r2.id);
    expect(pending).toMatchObject({ state: 'rolling_back', routerErrorSince: askedAt, routerError: 'router unreachable' });
    expect((await second.store.listEvents(r2.id)).filter(e => e.type === 'rollback_pending')).toHaveLength(1);
    routerDown = false;
    second.clock.advance(8);
    await second.driver.tick();
    expect(await second.store.getRelease(r2.id)).toMatchObject({ state: 'rolled_back', canaryWeight: 0, routerErrorSince: undefined });
    expect(weight).toBe(0);
  });

  it('rolls back after the target\'s own provider-error limit when it has one', async () => {
    const failingMetrics: MetricProvider = { getSample: async () => { throw new Error('metrics unavailable'); } };
    const { store, clock, driver } = await setup({ metrics: failingMetrics, targets: { simulator: { maxConsecutiveProviderErrors: 6 } } });
    const release = await createRelease(store, '2.0.0', clock.now().toISOString());
    const states: string[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(1);
      await driver.tick();
      states.push((await store.getRelease(release.id)).state);
    }
    // Tick 1 starts the release; ticks 2-6 hold it through 5 errors; the 6th error rolls back.
    expect(states.slice(0, 6)).toEqual(['running', 'running', 'running', 'running', 'running', 'running']);
    expect(states[6]).toBe('rolled_back');
    expect((await store.getRelease(release.id)).reason).toMatch(/^6 provider errors in a row/);
  });
});

describe('The post-release watch, in virtual time', () => {
  const WATCHED_PLAN: ReleasePlan = { ...DEMO_PLAN, name: 'watched', watchSeconds: 120 };
  // A service with a daily pattern (traffic 50 % to 150 % of 2,000/s) and a version that only breaks under the full load.
  const fleet: Partial<SimulatedFleetOptions> = {
    dailyAmplitude: 0.5,
    faults: [{ versionPattern: /-overload$/, minWeight: 100, errorRate: 0.003, latencyMs: { p50: 90, p95: 145 } }],
  };

  async function run(version: string, metrics?: (f: SimulatedFleet) => MetricProvider) {
    const context = await setup({ fleet, seed: 5 });
    const driver = metrics ? context.makeDriver(context.fleet, metrics(context.fleet)) : context.driver;
    const release = await createRelease(context.store, version, context.clock.now().toISOString(), WATCHED_PLAN);
    for (let i = 0; i < 300; i++) {
      context.clock.advance(1);
      await driver.tick();
      if (!['pending', 'running', 'watching'].includes((await context.store.getRelease(release.id)).state)) break;
    }
    return { ...context, release: await context.store.getRelease(release.id), events: await context.store.listEvents(release.id) };
  }

  it('watches a healthy release against two days of the service\'s history, then succeeds', async () => {
    const { release, events } = await run('2.0.0');
    expect(release.state).toBe('succeeded');
    const types = events.map(e => e.type);
    expect(types.slice(-2)).toEqual(['watch_started', 'succeeded']);
    const watchStarted = events.find(e => e.type === 'watch_started')!;
    const succeeded = events.find(e => e.type === 'succeeded')!;
    expect((Date.parse(succeeded.at) - Date.parse(watchStarted.at)) / 1000).toBeGreaterThanOrEqual(120);
    expect(release.latestVerdict?.summary).toMatch(/^Watching: every metric within its usual range \(2-day history\)/);
  });

  it('rolls back a version that breaks only under the full load, which no canary step could see', async () => {
    const { release, events, fleet: f } = await run('2.0.0-overload');
    expect(release.state).toBe('rolled_back');
    expect(await f.getCanaryWeight(targetOf(release))).toBe(0);
    expect(release.reason).toMatch(/^post-release watch: Error rate 0\.\d+%, usually 0\.02% at this time of day/);
    const watchStarted = events.find(e => e.type === 'watch_started')!;
    const rolledBack = events.find(e => e.type === 'rolled_back')!;
    expect((Date.parse(rolledBack.at) - Date.parse(watchStarted.at)) / 1000).toBeLessThan(60);
  });

  it('only waits out its time when the metric provider gives no history', async () => {
    const { release } = await run('2.0.0-overload', f => ({ getSample: (c, i) => f.getSample(c, i) }));
    expect(release.state).toBe('succeeded');
    expect(release.latestVerdict?.summary).toMatch(/no history/);
  });

});

describe('Rolling back the last succeeded release', () => {
  it('rolls the last succeeded release back to the previous version through the router, and refuses an older one', async () => {
    const { store, clock, fleet, driver } = await setup();
    const done = (version: string, at: string) =>
      makeRelease({ id: randomUUID(), version, state: 'succeeded', canaryWeight: 100, currentStep: 5, plan: DEMO_PLAN, createdAt: at, updatedAt: at, finishedAt: at });
    const older = done('1.0.0', '2025-12-31T22:00:00.000Z');
    const latest = done('1.1.0', '2025-12-31T23:00:00.000Z');
    for (const release of [older, latest]) {
      await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
    }
    await fleet.setCanaryWeight(targetOf(latest), 100);
    const service = new ReleasesService({ store, driver } as unknown as ConstructorParameters<typeof ReleasesService>[0]);
    const allow = async () => {};
    await expect(service.act(older.id, 'rollback', 'user:default/alice', undefined, allow)).rejects.toThrow(
      'Only the latest release of component:default/checkout can be rolled back; 1.1.0 (succeeded) is newer than 1.0.0',
    );
    clock.advance(1);
    const rolledBack = await service.act(latest.id, 'rollback', 'user:default/alice', 'errors since 1.1.0', allow);
    expect(rolledBack).toMatchObject({ state: 'rolled_back', canaryWeight: 0, reason: 'back to the previous version, requested by user:default/alice: errors since 1.1.0' });
    expect(await fleet.getCanaryWeight(targetOf(latest))).toBe(0);
    expect((await store.listEvents(latest.id)).map(e => e.type)).toEqual(['created', 'rollback_started', 'rolled_back']);
    // A second release of the entity may start only now that nothing is active; the rolled-back one cannot be rolled back again.
    await expect(service.act(latest.id, 'rollback', 'user:default/alice', undefined, allow)).rejects.toThrow(/Cannot rollback/);
  });
});

describe('Several replicas', () => {
  it('one replica drives a release at a time; when it dies another takes over one lease later, and the dead one, woken, is fenced off', async () => {
    const { store, clock, fleet, makeDriver } = await setup();
    const a = makeDriver(fleet, fleet, 'replica-a');
    const b = makeDriver(fleet, fleet, 'replica-b');
    const release = await createRelease(store, '3.0.0', clock.now().toISOString());
    for (let i = 0; i < 8; i++) {
      clock.advance(1);
      await a.tick();
      await b.tick();
    }
    const events = async () => store.listEvents(release.id);
    expect((await events()).filter(e => e.type === 'taken_over')).toEqual([]);
    const beforeDeath = await store.getRelease(release.id);
    expect(beforeDeath.currentStep).toBeGreaterThan(0);

    // a dies: b holds the weight once a's lease (2 s) runs out, and drives on.
    let tookOverAfter = 0;
    for (let i = 1; i <= 5 && tookOverAfter === 0; i++) {
      clock.advance(1);
      await b.tick();
      if ((await events()).some(e => e.type === 'taken_over')) tookOverAfter = i;
    }
    expect(tookOverAfter).toBe(2);
    const takeover = (await events()).find(e => e.type === 'taken_over')!;
    expect(takeover.data).toMatchObject({ from: 'replica-a', to: 'replica-b', seconds: 2 });

    // a wakes with what it knew before it died and tries to act on it: fenced, nothing written, router untouched.
    const weightBefore = await fleet.getCanaryWeight(targetOf(release));
    const stale = new ReleaseDriver({ ...(a as any).deps });
    const target = { name: 'simulator', trafficRouter: fleet, metricProvider: fleet };
    await (stale as any).handle(beforeDeath, 1, { type: 'tick', verdict: { at: clock.now().toISOString(), outcome: 'pass', summary: 'ok', evidence: [] }, canaryRequests: 1e6 }, target, clock.now()).catch(() => undefined);
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(weightBefore);

    for (let i = 0; i < 200 && (await store.getRelease(release.id)).state === 'running'; i++) {
      clock.advance(1);
      await b.tick();
    }
    const all = await events();
    const advanced = all.filter(e => e.type === 'step_advanced').map(e => (e.data as { step: number }).step);
    expect(new Set(advanced).size).toBe(advanced.length);
    expect(all.filter(e => e.type === 'started')).toHaveLength(1);
  });
});

  it('takes a dead replica\'s release over when its lease runs out, not at its own next tick (takeover timer)', async () => {
    const { store, clock, fleet, makeDriver } = await setup();
    const a = makeDriver(fleet, fleet, 'replica-a');
    const b = makeDriver(fleet, fleet, 'replica-b');
    const release = await createRelease(store, '3.4.0', clock.now().toISOString());
    clock.advance(1);
    await a.tick();
    // a dies. 1.7 s later b ticks: a's 2 s lease runs out 0.3 s before b's next tick would come.
    clock.advance(1.7);
    await b.tickAndWatch(1);
    expect((await store.listEvents(release.id)).some(e => e.type === 'taken_over')).toBe(false);
    clock.advance(0.35);
    // No tick is called here: only b's timer can take the release over.
    let takeover;
    for (let waited = 0; !takeover && waited < 2000; waited += 100) {
      await new Promise(resolve => setTimeout(resolve, 100));
      takeover = (await store.listEvents(release.id)).find(e => e.type === 'taken_over');
    }
    expect(takeover?.data).toMatchObject({ from: 'replica-a', to: 'replica-b' });
    expect((takeover!.data as { seconds: number }).seconds).toBeCloseTo(2.05, 1);
    b.stop();
  });

  it.each([
    ['refuses it: the fencing token', false],
    ['cannot check tokens (HAProxy): the woken replica sees it lost the lease and puts the stored weight back', true],
  ])('a replica frozen between its lease check and its router call: a router that %s', async (_, tokenBlind) => {
    const { store, clock, fleet, makeDriver } = await setup();
    // Replica a's router calls can be frozen mid-flight, as a SIGSTOP or a long GC pause would.
    let freezeNext = false;
    let frozenAt: (() => void) | undefined;
    let wake: (() => void) | undefined;
    const entered = new Promise<void>(resolve => (frozenAt = resolve));
    const freezable: TrafficRouter = {
      getCanaryWeight: context => fleet.getCanaryWeight(context),
      setCanaryWeight: async (context, weight) => {
        if (freezeNext) {
          freezeNext = false;
          frozenAt!();
          await new Promise<void>(resolve => (wake = resolve));
        }
        return fleet.setCanaryWeight(tokenBlind ? { ...context, fencingToken: undefined } : context, weight);
      },
    };
    const a = makeDriver(freezable, fleet, 'replica-a');
    const b = makeDriver(fleet, fleet, 'replica-b');
    const release = await createRelease(store, '3.1.0', clock.now().toISOString());
    for (let i = 0; i < 8; i++) {
      clock.advance(1);
      await a.tick();
    }
    const stored = await store.getRelease(release.id);
    expect(stored.canaryWeight).toBeGreaterThan(0);

    // The router lost a's weight (restarted): a's next tick reconciles, passes its lease check, and freezes in the call.
    await fleet.setCanaryWeight(targetOf(release), 0);
    freezeNext = true;
    clock.advance(1);
    const frozenTick = a.tick();
    await entered;

    // Meanwhile b takes the release over, reconciles, and a person rolls it back through b.
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await b.tick();
    }
    expect((await store.listEvents(release.id)).some(e => e.type === 'taken_over')).toBe(true);
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(stored.canaryWeight);
    const rolledBack = await b.applyUserAction(release.id, 'rollback', 'user:default/alice', 'wrong build');
    expect(rolledBack.state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);

    // a wakes and completes the call it started with its old token: the router refuses it.
    wake!();
    await frozenTick;
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
    expect((await store.getRelease(release.id)).state).toBe('rolled_back');
  });

  it('a rollback call slower than the lease is not undone by the check after the call', async () => {
    const { store, clock, fleet, makeDriver } = await setup();
    const slow: TrafficRouter = {
      getCanaryWeight: context => fleet.getCanaryWeight(context),
      setCanaryWeight: async (context, weight) => {
        if (weight === 0) clock.advance(5);
        return fleet.setCanaryWeight({ ...context, fencingToken: undefined }, weight);
      },
    };
    const driver = makeDriver(slow, fleet, 'replica-a');
    const release = await createRelease(store, '3.2.0-faulty', clock.now().toISOString());
    for (let i = 0; i < 30 && !['rolled_back', 'failed'].includes((await store.getRelease(release.id)).state); i++) {
      clock.advance(1);
      await driver.tick();
    }
    expect((await store.getRelease(release.id)).state).toBe('rolled_back');
    expect(await fleet.getCanaryWeight(targetOf(release))).toBe(0);
  });

  it('a message stored with its release but never delivered (the replica died) is delivered once by any replica\'s next tick', async () => {
    const { store, clock, fleet, makeDriver } = await setup();
    const delivered: string[] = [];
    const outbox = (alive: boolean): ReleaseOutbox => ({
      messagesFor: (release, records) =>
        records.filter(r => r.type === 'rolled_back').map(r => ({ message: { text: `${release.version}: ${r.message}` }, owner: release.owner })),
      // Replica a dies right after its save: nothing of what it stored goes out.
      deliver: async entries => {
        if (!alive) return { done: [], retry: [], next: [] };
        delivered.push(...entries.map(e => (e.message as { text: string }).text));
        return { done: entries.map(e => e.id), retry: [], next: [] };
      },
    });
    const a = makeDriver(fleet, fleet, 'replica-a', outbox(false));
    const b = makeDriver(fleet, fleet, 'replica-b', outbox(true));
    const release = await createRelease(store, '3.3.0-faulty', clock.now().toISOString());
    for (let i = 0; i < 30 && (await store.getRelease(release.id)).state !== 'rolled_back'; i++) {
      clock.advance(1);
      await a.tick();
    }
    expect((await store.getRelease(release.id)).state).toBe('rolled_back');
    // b leaves a's message alone while a could still deliver it, then delivers it once.
    for (let i = 0; i < 25; i++) {
      clock.advance(1);
      await b.tick();
    }
    expect(delivered).toEqual([]);
    for (let i = 0; i < 40; i++) {
      clock.advance(1);
      await b.tick();
    }
    expect(delivered).toEqual([expect.stringMatching(/^3\.3\.0-faulty: Rolled back: canary weight 0%/)]);
  });

  it('each escalation channel call is stored on its own: a failing notifications backend posts nothing twice, and a call left by a dead replica is sent by another', async () => {
    const { store, clock, fleet, makeDriver } = await setup();
    const entities = [
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'checkout', namespace: 'default' },
        spec: { owner: 'team-checkout' },
        relations: [{ type: 'ownedBy', targetRef: 'group:default/team-checkout' }],
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: { name: 'team-checkout', namespace: 'default', annotations: { 'release-pilot.io/notify-channels': 'slack' } },
        spec: { type: 'team', children: [] },
      },
    ];
    const notified: string[] = [];
    const slack: Array<{ replica: string; status: number }> = [];
    const notifier = (replica: string, options: { notificationsDownFor: number; slackStatus: number }) => {
      let calls = 0;
      const logger = mockServices.logger.mock();
      const channels = new Map([['slack', { name: 'slack', type: 'slack' as const, webhookUrl: 'http://hooks.test/slack', minSeverity: 'high' as const }]]);
      return new ReleaseNotifier({
        notifications: {
          send: async ({ payload }) => {
            if (!payload.title.includes('rolled back')) return;
            if (++calls <= options.notificationsDownFor) throw new Error('notifications backend unavailable');
            notified.push(`${replica}: ${payload.title}`);
          },
        },
        catalog: catalogServiceMock({ entities }),
        auth: mockServices.auth(),
        logger,
        config: {
          enabled: true,
          channels,
          retry: { attempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000 },
        },
        delivery: new ChannelDelivery({
          logger,
          retry: { attempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000 },
          channels,
          fetch: async () => {
            slack.push({ replica, status: options.slackStatus });
            return new Response('', { status: options.slackStatus });
          },
        }),
        appBaseUrl: 'http://portal.test',
      });
    };
    // Replica a: its first notification fails, and Slack never answers it (its network is broken).
    const a = makeDriver(fleet, fleet, 'replica-a', notifier('a', { notificationsDownFor: 1, slackStatus: 503 }));
    const b = makeDriver(fleet, fleet, 'replica-b', notifier('b', { notificationsDownFor: 0, slackStatus: 200 }));
    const release = await createRelease(store, '3.4.0-faulty', clock.now().toISOString());
    for (let i = 0; i < 30 && (await store.getRelease(release.id)).state !== 'rolled_back'; i++) {
      clock.advance(1);
      await a.tick();
    }
    await new Promise(resolve => setImmediate(resolve));
    expect(notified).toEqual([]);
    expect(slack).toEqual([]);
    // a delivers its stored message again once its grace period is over: notified, and one Slack call, refused.
    for (let i = 0; i < 32 && slack.length === 0; i++) {
      clock.advance(1);
      await a.tick();
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    expect(notified).toEqual(['a: Release of checkout 3.4.0-faulty rolled back automatically']);
    expect(slack).toEqual([{ replica: 'a', status: 503 }]);
    // a dies; b sends the stored Slack call once its retry is due, and nothing is sent twice.
    for (let i = 0; i < 70; i++) {
      clock.advance(1);
      await b.tick();
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    expect(slack).toEqual([{ replica: 'a', status: 503 }, { replica: 'b', status: 200 }]);
    expect(notified).toHaveLength(1);
    expect(await store.outbox.claim(new Date('2100-01-01T00:00:00.000Z'), 1)).toEqual([]);
  });

  describe('Provider outages', () => {
    it('no data at all holds the weight, never passes, and rolls back after the limit; a quiet service only waits for its sample', async () => {
      let silent = true;
      const requests = { canary: 0, baseline: 0 };
      const metrics: MetricProvider = {
        getSample: async (_context, interval) => ({
          from: interval.from.toISOString(),
          to: interval.to.toISOString(),
          canary: makeStats(silent ? 0 : requests.canary, 0, 100),
          baseline: makeStats(silent ? 0 : requests.baseline, 0, 100),
        }),
      };
      const { store, clock, fleet, driver } = await setup({ metrics, targets: { simulator: { maxConsecutiveProviderErrors: 5 } } });
      const plan: ReleasePlan = { name: 'p', steps: [{ weight: 10, minDurationSeconds: 1, minCanaryRequests: 100 }, { weight: 100, minDurationSeconds: 1, minCanaryRequests: 100 }] };
      const quiet = await createRelease(store, '4.0.0', clock.now().toISOString(), plan);
      // A quiet service: 3 canary requests a tick. It waits at 10 % for its 100 requests, without errors.
      silent = false;
      requests.canary = 3;
      requests.baseline = 30;
      for (let i = 0; i < 20; i++) {
        clock.advance(1);
        await driver.tick();
      }
      const waiting = await store.getRelease(quiet.id);
      expect(waiting).toMatchObject({ state: 'running', currentStep: 0, consecutiveProviderErrors: 0 });
      expect(waiting.stepCanaryRequests).toBe(57);
      // Then the provider goes silent: the weight holds for 4 ticks, the 5th rolls back.
      silent = true;
      const states: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1);
        await driver.tick();
        const now = await store.getRelease(quiet.id);
        states.push(`${now.state}@${await fleet.getCanaryWeight(targetOf(now))}`);
      }
      expect(states).toEqual(['running@10', 'running@10', 'running@10', 'running@10', 'rolled_back@0']);
      expect((await store.getRelease(quiet.id)).reason).toMatch(/^5 provider errors in a row, last: no data: the metric provider reported no requests for either side/);
    });
  });
});
