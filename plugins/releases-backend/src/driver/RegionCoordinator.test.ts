import { mockServices } from '@backstage/backend-test-utils';
import { ConflictError } from '@backstage/errors';
import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import {
  CHECKOUT_INCIDENT_FAULT,
  DEFAULT_BASELINE,
  SimulatedDeployer,
  SimulatedFleet,
} from '@release-pilot/plugin-releases-backend-module-simulator';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { DEFAULT_WATCH_OPTIONS, FixedRuleJudge, JudgeCatalog, newRegionRollout, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { createTestDatabases } from '../__testUtils__/databases';
import { ReleasesStore } from '../database/ReleasesStore';
import { messageFor } from '../notify/messages';
import { ReleaseDriver, ReleaseOutbox } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';

jest.setTimeout(60_000);

/*
 * Releases across regions through the real driver, store, coordinator and engine, on one simulated
 * fleet and deployer per region, in virtual time: each region runs the plan on its own, waves start
 * when the previous one succeeded, and a region that fails brings every region back to the old version.
 */

const PLAN: ReleasePlan = { name: 'short', steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 5, minCanaryRequests: 50 })) };
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const WAVES = [['us-east-1'], ['eu-west-1', 'ap-south-1']];

const databases = createTestDatabases();

/** The owners' messages, as the notifier would make them from each release's records. */
function recordingOutbox() {
  const delivered: Array<{ releaseId: string; region?: string; title: string; description: string }> = [];
  const outbox: ReleaseOutbox = {
    messagesFor: (release, records) =>
      records.flatMap(record => {
        const message = messageFor(release, record);
        if (message) delivered.push({ releaseId: release.id, region: release.region, title: message.title, description: message.description });
        return message ? [{ message }] : [];
      }),
    deliver: async entries => ({ done: entries.map(e => e.id), retry: [], next: [] }),
  };
  return { outbox, delivered };
}

async function setup(failurePolicy: 'rollbackAll' | 'hold' = 'rollbackAll') {
  const knex = await databases.init('SQLITE_3');
  const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
  const clock = new VirtualClock('2026-01-01T00:00:00.000Z');
  const now = () => clock.now().getTime();
  const regions = Object.fromEntries(
    REGIONS.map((region, i) => {
      const deployer = new SimulatedDeployer({ deploySeconds: 2, readySeconds: 1, failures: [], now });
      const faults = [{ ...CHECKOUT_INCIDENT_FAULT, versionPattern: new RegExp(`-faulty-in-${region}$`) }];
      const fleet = new SimulatedFleet({ seed: 3 + i, rps: 1000, baseline: DEFAULT_BASELINE, faults, now }, deployer);
      // Every weight the router is told, in order.
      const weightsSet: number[] = [];
      const trafficRouter = {
        setCanaryWeight: async (context: Parameters<SimulatedFleet['setCanaryWeight']>[0], weight: number) => {
          weightsSet.push(weight);
          return fleet.setCanaryWeight(context, weight);
        },
        getCanaryWeight: (context: Parameters<SimulatedFleet['getCanaryWeight']>[0]) => fleet.getCanaryWeight(context),
      };
      return [region, { trafficRouter, metricProvider: fleet, deployer, fleet, weightsSet }];
    }),
  );
  const targets = new TargetRegistry();
  targets.addRegions({ name: 'global', regions, waves: { bakeSeconds: 10, failurePolicy, waves: WAVES } });
  const { outbox, delivered } = recordingOutbox();
  const driver = new ReleaseDriver({
    store,
    targets,
    outbox,
    judges: JudgeCatalog.of(new FixedRuleJudge()),
    watch: new WatchJudge({ ...DEFAULT_WATCH_OPTIONS, historyDays: 2 }),
    clock,
    logger: mockServices.logger.mock(),
    owner: 'test',
    options: { analysisWindowSeconds: 30, leaseSeconds: 5, engine: { maxConsecutiveProviderErrors: 3 } },
  });
  return { store, clock, driver, regions, delivered };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Every region's stable side runs `version` (deployed before the test's release). */
async function runsEverywhere(s: Setup, version: string) {
  const context = { entityRef: 'component:default/checkout', releaseId: 'before', version, annotations: {} };
  for (const parts of Object.values(s.regions)) await parts.deployer.ensure(context, 'stable', version);
  s.clock.advance(5);
}

/** What every region's stable side runs, and the weight its router gives the canary, read from the simulated parts. */
async function fleetState(s: Setup, entityRef: string) {
  const out: Record<string, { stable?: string; canary?: string; weight: number }> = {};
  for (const [region, parts] of Object.entries(s.regions)) {
    const serving = parts.deployer.serving(entityRef);
    out[region] = { stable: serving?.stable, canary: serving?.canary, weight: await parts.fleet.getCanaryWeight({ entityRef, releaseId: '', version: '', annotations: {} }) };
  }
  return out;
}

async function run(s: Setup, version: string, options: { until?: (r: Release) => boolean; seconds?: number; policy?: 'rollbackAll' | 'hold' } = {}) {
  const at = s.clock.now().toISOString();
  const parent = makeRelease({
    id: `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
    version,
    target: 'global',
    plan: PLAN,
    createdAt: at,
    updatedAt: at,
    previousVersion: '1.0.0',
    rollout: newRegionRollout({ waves: WAVES, bakeSeconds: 10, order: [] }, options.policy ?? 'rollbackAll'),
  });
  await s.store.createRelease(parent, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
  const startedAt: Record<string, number> = {};
  for (let i = 0; i < (options.seconds ?? 400); i++) {
    s.clock.advance(1);
    await s.driver.tick();
    const now = await s.store.getRelease(parent.id);
    for (const r of Object.values(now.rollout!.regions)) if (r.state !== 'waiting') startedAt[r.region] ??= i;
    if (options.until?.(now) || ['succeeded', 'rolled_back', 'failed'].includes(now.state)) break;
  }
  const release = await s.store.getRelease(parent.id);
  return {
    release,
    children: await s.store.listRegionReleases(parent.id),
    timeline: (await s.store.listEvents(parent.id)).map(e => `${e.type}: ${e.message}`),
    startedAt,
  };
}

describe('a release across regions, through the driver', () => {
  it('runs the waves in order, each region on its own plan, and ends with every region on the new version', async () => {
    const s = await setup();
    // Every region runs 1.0.0 to begin with.
    await runsEverywhere(s, '1.0.0');
    const { release, children, timeline, startedAt } = await run(s, '2.0.0');
    expect(release.state).toBe('succeeded');
    expect(children.map(c => [c.region, c.state, c.parentId])).toEqual([
      ['us-east-1', 'succeeded', release.id],
      ['ap-south-1', 'succeeded', release.id],
      ['eu-west-1', 'succeeded', release.id],
    ]);
    // The second wave started once the first succeeded and baked 10 s; its two regions together.
    expect(startedAt['eu-west-1']).toBe(startedAt['ap-south-1']);
    const firstDone = Date.parse(children[0].finishedAt!);
    expect(Date.parse(children[1].createdAt) - firstDone).toBeGreaterThanOrEqual(10_000);
    expect(Date.parse(children[1].createdAt) - firstDone).toBeLessThanOrEqual(12_000);
    expect(Object.values(await fleetState(s, release.entityRef)).map(f => f.stable)).toEqual(['2.0.0', '2.0.0', '2.0.0']);
    expect(timeline.filter(t => t.startsWith('wave_started'))).toEqual(['wave_started: Wave 1 of 2: us-east-1', 'wave_started: Wave 2 of 2: eu-west-1, ap-south-1']);
    // The release across regions is listed once; its regions are its parts.
    expect((await s.store.listReleases({ limit: 10, offset: 0 })).items.map(r => r.id)).toEqual([release.id]);
  });

  it('rolls back the region that fails at once, halts, and rolls back the region already promoted: no skew', async () => {
    const s = await setup();
    await runsEverywhere(s, '1.0.0');
    const { release, children, timeline } = await run(s, '2.0.0-faulty-in-ap-south-1');
    expect(release.state).toBe('rolled_back');
    expect(release.rollout!.failedRegion).toBe('ap-south-1');
    expect(release.reason).toMatch(/^ap-south-1 rolled back: /);
    expect(children.map(c => [c.region, c.state])).toEqual([
      ['us-east-1', 'rolled_back'],
      ['ap-south-1', 'rolled_back'],
      ['eu-west-1', 'rolled_back'],
    ]);
    // us-east-1 had succeeded (promoted) before ap-south-1 failed: it was rolled back after its success.
    expect((await s.store.listEvents(children[0].id)).map(e => e.type)).toEqual(expect.arrayContaining(['succeeded', 'rollback_started', 'rolled_back']));
    expect(Object.values(await fleetState(s, release.entityRef)).map(f => [f.stable, f.weight])).toEqual([
      ['1.0.0', 0],
      ['1.0.0', 0],
      ['1.0.0', 0],
    ]);
    expect(timeline.some(t => t.startsWith('region_failed: ap-south-1 rolled back'))).toBe(true);
    // Once a region's traffic went back to 0 for its rollback, nothing gave its canary traffic again
    // (the same tick drives the region's release after the coordinator rolled it back: it must not
    // put back the weight it had read before).
    // (A promoted region's rollback restores through its canary side, at 100 % with the previous version: not checked here.)
    for (const [region, parts] of Object.entries(s.regions).filter(([r]) => r !== 'us-east-1')) {
      const weights = parts.weightsSet;
      const restored = weights.findIndex((w, i) => w === 0 && weights.slice(0, i).some(x => x > 0));
      expect([region, weights.slice(restored).filter(w => w > 0)]).toEqual([region, []]);
    }
    // The owners hear about the release, not about each region: one message per outcome, naming the failing region.
    expect(s.delivered.every(m => m.releaseId === release.id && m.region === undefined)).toBe(true);
    expect(s.delivered.map(m => m.title)).toEqual([
      'Release of checkout 2.0.0-faulty-in-ap-south-1 started',
      'Release of checkout 2.0.0-faulty-in-ap-south-1 rolled back automatically',
    ]);
    expect(s.delivered[1].description).toMatch(/^Reason: ap-south-1 rolled back: /);
  });

  it('holds for a person when the policy says so; the person rolls back everywhere', async () => {
    const s = await setup();
    await runsEverywhere(s, '1.0.0');
    const held = await run(s, '2.0.0-faulty-in-ap-south-1', { policy: 'hold', until: r => r.state === 'paused' });
    expect(held.release.state).toBe('paused');
    expect(held.release.rollout!.state).toBe('holding');
    // Holding: the promoted region keeps the new version, and nothing new starts however long it waits.
    for (let i = 0; i < 30; i++) {
      s.clock.advance(1);
      await s.driver.tick();
    }
    const stillHeld = await s.store.getRelease(held.release.id);
    expect(stillHeld.state).toBe('paused');
    expect((await fleetState(s, held.release.entityRef))['us-east-1'].stable).toBe('2.0.0-faulty-in-ap-south-1');
    // A tick that saves the release in between: the person's rollback is decided again, not refused.
    jest.spyOn(s.store, 'saveRelease').mockRejectedValueOnce(new ConflictError(`Release ${held.release.id} was changed concurrently; reload and try again`));
    await s.driver.applyRegionAction(held.release.id, 'rollback', 'user:default/alice');
    for (let i = 0; i < 60 && (await s.store.getRelease(held.release.id)).state !== 'rolled_back'; i++) {
      s.clock.advance(1);
      await s.driver.tick();
    }
    expect((await s.store.getRelease(held.release.id)).state).toBe('rolled_back');
    expect(Object.values(await fleetState(s, held.release.entityRef)).map(f => f.stable)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('starts a region that a dead replica decided but never created, exactly once', async () => {
    const s = await setup();
    const at = s.clock.now().toISOString();
    // The saved intent: wave 1 started (us-east-1 pending), with no region release yet.
    const rollout = newRegionRollout({ waves: WAVES, bakeSeconds: 10, order: [] }, 'rollbackAll');
    const decided = { ...rollout, wave: 0, regions: { ...rollout.regions, 'us-east-1': { ...rollout.regions['us-east-1'], state: 'pending' as const } } };
    const parent = makeRelease({ id: '00000000-0000-4000-8000-000000000001', version: '2.0.0', target: 'global', plan: PLAN, createdAt: at, updatedAt: at, state: 'running', rollout: decided });
    await s.store.createRelease(parent, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
    for (let i = 0; i < 3; i++) {
      s.clock.advance(1);
      await s.driver.tick();
    }
    const children = await s.store.listRegionReleases(parent.id);
    expect(children.map(c => c.region)).toEqual(['us-east-1']);
  });
});
