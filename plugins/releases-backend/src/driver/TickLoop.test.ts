import { mockServices } from '@backstage/backend-test-utils';
import { MetricSample } from '@release-pilot/plugin-releases-common';
import { makeRelease, makeStats } from '@release-pilot/plugin-releases-core/testUtils';
import { DEFAULT_WATCH_OPTIONS, FixedRuleJudge, JudgeCatalog, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { MetricProvider, ReleaseTargetContext, TrafficRouter } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../database/ReleasesStore';
import { createTestDatabases } from '../__testUtils__/databases';
import { ReleaseDriver } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';

const databases = createTestDatabases();

/** A router that holds each release's weight as set. */
function memoryRouter(): TrafficRouter {
  const weights = new Map<string, number>();
  return {
    getCanaryWeight: async (context: ReleaseTargetContext) => weights.get(context.releaseId) ?? 1,
    setCanaryWeight: async (context: ReleaseTargetContext, weight: number) => void weights.set(context.releaseId, weight),
  };
}

/** Metrics answering at once, or, with `hold`, only when the test lets them go. */
function metrics(options: { hold?: boolean } = {}) {
  const calls: string[] = [];
  const waiting: Array<() => void> = [];
  const provider: MetricProvider = {
    getSample: (context, interval) => {
      calls.push(context.releaseId);
      const sample: MetricSample = { from: interval.from.toISOString(), to: interval.to.toISOString(), canary: makeStats(100, 0, 50), baseline: makeStats(100, 0, 50) };
      if (!options.hold) return Promise.resolve(sample);
      return new Promise(resolve => waiting.push(() => resolve(sample)));
    },
  };
  return { provider, calls, answer: () => waiting.splice(0).forEach(go => go()) };
}

describe('TickLoop', () => {
  it('drives releases concurrently: a hanging provider delays only its own target, times out as a provider error, and its release waits for the late answer', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const clock = new VirtualClock('2026-01-01T00:00:10.000Z');
    const fast = metrics();
    const slow = metrics({ hold: true });
    const targets = new TargetRegistry();
    targets.add({ name: 'fast', trafficRouter: memoryRouter(), metricProvider: fast.provider });
    targets.add({ name: 'slow', trafficRouter: memoryRouter(), metricProvider: slow.provider });
    const finished: Array<{ target: string; at: number }> = [];
    const driver = new ReleaseDriver({
      store,
      targets,
      judges: JudgeCatalog.of(new FixedRuleJudge()),
      watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
      clock,
      logger: mockServices.logger.mock(),
      owner: 'a',
      options: { analysisWindowSeconds: 30, leaseSeconds: 2, engine: { maxConsecutiveProviderErrors: 5 }, providerTimeoutSeconds: 0.3 },
      onDriven: release => finished.push({ target: release.target, at: Date.now() }),
    });
    const running = { state: 'running' as const, canaryWeight: 1, stepStartedAt: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:00.000Z' };
    const onSlow = makeRelease({ ...running, id: '00000000-0000-4000-8000-000000000051', entityRef: 'component:default/slow', target: 'slow' });
    const onFast = makeRelease({ ...running, id: '00000000-0000-4000-8000-000000000052', entityRef: 'component:default/fast', target: 'fast', createdAt: '2026-01-01T00:00:01.000Z' });
    for (const release of [onSlow, onFast]) await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });

    const started = Date.now();
    await driver.tick();
    // The fast target's release (created after the slow one) finished long before the slow call's timeout.
    expect(finished.map(f => f.target)).toEqual(['fast', 'slow']);
    expect(finished[0].at - started).toBeLessThan(250);
    expect(finished[1].at - started).toBeGreaterThanOrEqual(290);
    const timedOut = await store.getRelease(onSlow.id);
    expect(timedOut.consecutiveProviderErrors).toBe(1);
    expect(timedOut.latestVerdict).toBeUndefined();
    expect((await store.listEvents(onSlow.id)).map(e => e.message).join('\n')).toMatch(/getSample of target 'slow' did not answer within 0.3 s/);
    expect(driver.calls.hasPending(onSlow.id)).toBe(true);

    // While its call has not answered, the slow release is not driven again (no second call that could overtake the first).
    clock.advance(1000);
    await driver.tick();
    expect(slow.calls).toEqual([onSlow.id]);
    expect(fast.calls).toEqual([onFast.id, onFast.id]);
    expect((await store.getRelease(onSlow.id)).consecutiveProviderErrors).toBe(1);

    // Once it answers (late, ignored), the release is driven again.
    slow.answer();
    await new Promise(resolve => setImmediate(resolve));
    expect(driver.calls.hasPending(onSlow.id)).toBe(false);
    clock.advance(1000);
    const next = driver.tick();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(slow.calls).toEqual([onSlow.id, onSlow.id]);
    slow.answer();
    await next;
    expect((await store.getRelease(onSlow.id)).consecutiveProviderErrors).toBe(0);
    expect(driver.calls.counts.get('metricProvider.getSample')).toBe(fast.calls.length + slow.calls.length);
    expect(fast.calls).toHaveLength(3);
    await driver.stop();
  });

  it("samples every release of a tick up to the tick's moment, however late its turn comes, tells the provider so before, and the next tick's samples start there", async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const clock = new VirtualClock('2026-01-01T00:00:10.000Z');
    const intervals: string[] = [];
    const targets = new TargetRegistry();
    targets.add({
      name: 'one',
      trafficRouter: memoryRouter(),
      metricProvider: {
        // Told before the tick's releases are driven which will sample, and up to when.
        prepareSamples: (contexts, to) => void intervals.push(`prepare ${contexts.map(c => c.releaseId.slice(-1)).join(',')} to ${to.toISOString().slice(17, 23)}`),
        // Each release's turn comes 100 ms after the one before (virtual time passes while they are driven).
        getSample: async (_context, interval) => {
          intervals.push(`${interval.from.toISOString().slice(17, 23)}-${interval.to.toISOString().slice(17, 23)}`);
          clock.advance(0.1);
          return { from: interval.from.toISOString(), to: interval.to.toISOString(), canary: makeStats(100, 0, 50), baseline: makeStats(100, 0, 50) };
        },
      },
    });
    const driver = new ReleaseDriver({
      store,
      targets,
      judges: JudgeCatalog.of(new FixedRuleJudge()),
      watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
      clock,
      logger: mockServices.logger.mock(),
      owner: 'a',
      options: { analysisWindowSeconds: 30, leaseSeconds: 2, engine: { maxConsecutiveProviderErrors: 5 }, concurrency: { releases: 1, perTarget: 1 } },
    });
    const running = { state: 'running' as const, canaryWeight: 1, stepStartedAt: '2026-01-01T00:00:09.000Z', startedAt: '2026-01-01T00:00:09.000Z', target: 'one' };
    const ids = [1, 2, 3].map(i => `00000000-0000-4000-8000-00000000006${i}`);
    for (const [i, id] of ids.entries()) {
      const release = makeRelease({ ...running, id, entityRef: `component:default/s${i}`, createdAt: `2026-01-01T00:00:0${i}.000Z` });
      await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
    }

    await driver.tick();
    // One at a time, the third release's turn came 200 ms after the tick's moment (10.000 s); its sample still ends there.
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:10.300Z');
    expect(intervals).toEqual(['prepare 1,2,3 to 10.000', '09.000-10.000', '09.000-10.000', '09.000-10.000']);
    clock.advance(0.7);
    await driver.tick();
    expect(intervals.slice(4)).toEqual(['prepare 1,2,3 to 11.000', '10.000-11.000', '10.000-11.000', '10.000-11.000']);
    for (const id of ids) expect((await store.listSamples(id, {})).map(s => s.at.slice(17, 23))).toEqual(['10.000', '11.000']);
    await driver.stop();
  });

  it('in real time, a tick takes at most its length: the next one starts while a slow call is still out', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const slow = metrics({ hold: true });
    const targets = new TargetRegistry();
    targets.add({ name: 'slow', trafficRouter: memoryRouter(), metricProvider: slow.provider });
    const driver = new ReleaseDriver({
      store,
      targets,
      judges: JudgeCatalog.of(new FixedRuleJudge()),
      watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
      clock: { now: () => new Date() },
      logger: mockServices.logger.mock(),
      owner: 'a',
      options: { analysisWindowSeconds: 30, leaseSeconds: 1, engine: { maxConsecutiveProviderErrors: 5 }, providerTimeoutSeconds: 30 },
    });
    const release = makeRelease({ state: 'running', canaryWeight: 1, target: 'slow', createdAt: new Date(Date.now() - 10_000).toISOString(), stepStartedAt: new Date(Date.now() - 10_000).toISOString() });
    await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
    const started = Date.now();
    await driver.tickAndWatch(0.2);
    expect(Date.now() - started).toBeLessThan(1000);
    // The call is still out after several leases: the renewal timer, not the tick, kept the lease.
    await new Promise(resolve => setTimeout(resolve, 2500));
    expect(await store.leases.holds(release.id, 'a', new Date())).toBe(true);
    slow.answer();
    await driver.stop();
  });

  it('a replica whose claim never finishes (a query that never answers) stops renewing, so its releases can be taken over', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const targets = new TargetRegistry();
    targets.add({ name: 'fast', trafficRouter: memoryRouter(), metricProvider: metrics().provider });
    const logger = mockServices.logger.mock();
    const driver = new ReleaseDriver({
      store,
      targets,
      judges: JudgeCatalog.of(new FixedRuleJudge()),
      watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
      clock: { now: () => new Date() },
      logger,
      owner: 'a',
      options: { analysisWindowSeconds: 30, leaseSeconds: 0.3, engine: { maxConsecutiveProviderErrors: 5 } },
    });
    const release = makeRelease({ state: 'running', canaryWeight: 1, target: 'fast', createdAt: new Date(Date.now() - 10_000).toISOString(), stepStartedAt: new Date(Date.now() - 10_000).toISOString() });
    await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
    await driver.tickAndWatch(0.1);
    expect(await store.leases.holds(release.id, 'a', new Date())).toBe(true);
    // The next claim hangs: the replica is alive (its timers run) but drives nothing any more.
    jest.spyOn(store.leases, 'claim').mockImplementation(() => new Promise(() => {}));
    void driver.tick();
    await new Promise(resolve => setTimeout(resolve, 500));
    // Within three leases of claiming it still renews (a slow claim is not a dead replica).
    expect(await store.leases.holds(release.id, 'a', new Date())).toBe(true);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(await store.leases.holds(release.id, 'a', new Date())).toBe(false);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/claim has not finished for \d+\.\d s: it stops renewing its leases/));
    await driver.stop();
  });
});
