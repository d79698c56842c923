import { ReleasesStore } from '../src/database/ReleasesStore';
import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { newRegionRollout, planWaves } from '@release-pilot/plugin-releases-core';
import { randomUUID } from 'node:crypto';
import { connect, databaseService, REGIONS, RouterServer, sideKey } from './shared';
import { Knex } from 'knex';
import { checkReleases, listAllReleases } from './checks';
import { PAUSE_MODES, Replica } from './ReplicaProcess';
import { checkRegionReleases } from './regionChecks';

/**
 * `yarn test:reliability`: two replicas of the driver on one PostgreSQL database drive a stream of
 * releases of four services against a shared router, and of two services across four regions in
 * waves (each region its own traffic and sides on that router), while replicas are killed with SIGKILL (or
 * frozen with SIGSTOP past their lease and woken) at random moments and the metric provider drops
 * out. Then every release is checked: takeovers, steps run twice, weights above plan, timeline
 * events lost, releases stuck, promotions on missing data; and the stale router calls the
 * router's fencing check refused; for the releases across regions, a region's state lost, a wave or
 * region run twice, and versions skewed between regions when a release ended. Exits 1 when a must-be-0 figure is not 0 or fewer trials ran than asked.
 */

const TRIALS = Number(process.env.RELEASE_PILOT_RELIABILITY_TRIALS ?? 50);
/** The share of trials that freeze a replica past its lease (SIGSTOP, then SIGCONT) instead of killing it. */
const PAUSES = Number(process.env.RELEASE_PILOT_RELIABILITY_PAUSES ?? 0.3);
const ENTITIES = ['svc-0', 'svc-1', 'svc-2', 'svc-3'].map(name => `component:default/${name}`);
/** Released across the `regions` target: every third release is faulty in one region, each region in turn. */
const REGION_ENTITIES = ['global-0', 'global-1'].map(name => `component:default/${name}`);
/** What every region of them runs before the first release. */
const FIRST_STABLE = '1.0.0';
const PLAN: ReleasePlan = {
  name: 'reliability',
  steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 2, minCanaryRequests: 50 })),
  watchSeconds: 0,
};
const seeded = (() => {
  let state = Number(process.env.RELEASE_PILOT_RELIABILITY_SEED ?? 20261127) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
})();
const between = (a: number, b: number) => a + (b - a) * seeded();
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function createDatabase(name: string) {
  const admin = connect('postgres');
  await admin.raw(`create database "${name}"`);
  await admin.destroy();
}

async function dropDatabase(name: string) {
  const admin = connect('postgres');
  await admin.raw(`drop database if exists "${name}" with (force)`).catch(() => undefined);
  await admin.destroy();
}

async function main() {
  const database = `rp_reliability_${process.pid}`;
  const router = new RouterServer();
  const routerUrl = await router.start();
  await createDatabase(database);
  const knex = connect(database);
  const store = await ReleasesStore.create({ database: databaseService(knex) });
  const replicas = [new Replica('a', database, routerUrl), new Replica('b', database, routerUrl)];
  const started = Date.now();
  let trials = 0;
  let pauses = 0;
  let pausesBeforeRouterCall = 0;
  let pausesBeforeFaultyRaise = 0;
  let pausesDone = 0;
  /** When each killed replica (by owner) got its SIGKILL. */
  const killedAt = new Map<string, number>();
  let outages = 0;
  let outageSeconds = 0;
  let killsWhileDeploying = 0;
  let killsWhilePromoting = 0;
  let killsWhileCoordinating = 0;
  let creating = true;
  let count = 0;
  try {
    await Promise.all(replicas.map(r => r.start()));
    for (const entityRef of REGION_ENTITIES) {
      for (const region of REGIONS) router.sides.set(sideKey(entityRef, region), { stable: FIRST_STABLE, canaryUp: false, canaryReadyAt: 0, stableReadyAt: 0 });
    }

    // A stream of releases: each service gets a new one as soon as its last has finished; every fourth is faulty.
    const stableOf = new Map<string, string>();
    const feeder = (async () => {
      while (creating) {
        for (const entityRef of ENTITIES) {
          const active = await knex('releases').where({ active_entity_ref: entityRef }).first('id');
          if (active || !creating) continue;
          const stable = router.sides.get(entityRef)?.stable;
          if (stable) stableOf.set(entityRef, stable);
          count++;
          const now = new Date().toISOString();
          const release: Release = {
            id: randomUUID(), entityRef, version: `1.${count}.0${count % 4 === 0 ? '-faulty' : ''}`, target: 'simulator', state: 'pending', plan: PLAN,
            currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0, consecutiveProviderErrors: 0, revision: 0,
            createdBy: 'reliability', createdAt: now, updatedAt: now, metadata: {},
            // The shared deployer puts each version on the canary and, after the steps, on the stable side.
            deployMode: 'deployer', previousVersion: stableOf.get(entityRef),
          };
          await store.createRelease(release, { at: now, actor: 'reliability', type: 'created', message: 'requested by the reliability run' });
        }
        for (const entityRef of REGION_ENTITIES) {
          if (!creating || (await knex('releases').where({ active_entity_ref: entityRef }).first('id'))) continue;
          count++;
          const now = new Date().toISOString();
          const faulty = count % 3 === 0 ? `-faulty-in-${REGIONS[(count / 3) % REGIONS.length]}` : '';
          const release: Release = {
            id: randomUUID(), entityRef, version: `2.${count}.0${faulty}`, target: 'regions', state: 'pending', plan: PLAN,
            currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0, consecutiveProviderErrors: 0, revision: 0,
            createdBy: 'reliability', createdAt: now, updatedAt: now, metadata: {}, deployMode: 'deployer',
            // What the first region runs: the last release's version if it succeeded everywhere (the checks find any skew).
            previousVersion: router.sides.get(sideKey(entityRef, REGIONS[0]))?.stable,
            rollout: newRegionRollout(planWaves(REGIONS, { maxParallel: 4, bakeSeconds: 0 }), 'rollbackAll'),
          };
          await store.createRelease(release, { at: now, actor: 'reliability', type: 'created', message: 'requested by the reliability run' });
        }
        await sleep(250);
      }
    })();

    // Metric outages: now and then the provider answers nothing for 2-6 s.
    const outageLoop = (async () => {
      while (creating) {
        await sleep(between(8000, 16000));
        if (!creating) break;
        const seconds = between(2, 6);
        router.outage = true;
        await sleep(seconds * 1000);
        router.outage = false;
        outages++;
        outageSeconds += seconds;
      }
    })();

    // Kills: the replica holding the most leases, while the other is alive; restarted 1-4 s later.
    while (trials < TRIALS) {
      await sleep(between(2500, 6000));
      if (!replicas.every(r => r.alive)) continue;
      const holders: Array<{ lease_owner: string; n: string | number }> = await knex('releases').whereNotNull('active_entity_ref').whereNotNull('lease_owner').groupBy('lease_owner').select('lease_owner').count({ n: '*' });
      const busiest = holders.sort((x, y) => Number(y.n) - Number(x.n))[0]?.lease_owner;
      const victim = replicas.find(r => r.owner === busiest) ?? replicas[Math.floor(seeded() * 2)];
      if (seeded() < PAUSES) {
        // Frozen past its lease: the other replica takes over; the woken one must be fenced off.
        // Two pauses in three are at the worst moment, between the lease check and the router call.
        const mode = PAUSE_MODES[pauses % PAUSE_MODES.length];
        if (await victim.pause(between(2500, 5000), router, mode, knex)) {
          pausesDone++;
          if (mode === 'beforeRouterCall') pausesBeforeRouterCall++;
          if (mode === 'beforeFaultyRaise') pausesBeforeFaultyRaise++;
        }
        // A pause that found no call to freeze before still moves on to the next mode.
        pauses++;
        continue;
      }
      killedAt.set(victim.owner, Date.now());
      // Where the kill lands: the lifecycle phases of the releases the victim holds.
      const held: Array<{ state: string; rollout: unknown }> = await knex('releases').where({ lease_owner: victim.owner }).whereNotNull('active_entity_ref').select('state', 'rollout');
      if (held.some(r => r.state === 'deploying')) killsWhileDeploying++;
      if (held.some(r => r.state === 'promoting')) killsWhilePromoting++;
      if (held.some(r => r.rollout)) killsWhileCoordinating++;
      victim.kill();
      trials++;
      setTimeout(() => victim.start().catch(error => process.stderr.write(`${error}\n`)), between(1000, 4000));
      if (trials % 10 === 0) process.stdout.write(`reliability: ${trials} kills, ${count} releases so far\n`);
    }
    creating = false;
    await Promise.all([feeder, outageLoop]);
    router.outage = false;
    while (!replicas.every(r => r.alive)) await sleep(500);
    // Let every release in flight finish.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await knex('releases').whereNotNull('active_entity_ref').count({ n: '*' }))[0].n !== '0') await sleep(1000);
    if (process.env.RELEASE_PILOT_RELIABILITY_VERBOSE) {
      for (const replica of replicas) replica.process?.kill('SIGUSR2');
      await sleep(1000);
      await dumpStuck(knex, router);
    }
  } finally {
    creating = false;
    replicas.forEach(r => r.kill());
  }

  // The checks.
  const releases = await listAllReleases(store);
  // Releases across regions: the coordinator's (parents) and each region's own, checked like any other.
  const parents = releases.filter(r => r.rollout);
  const children = (await Promise.all(parents.map(p => store.listRegionReleases(p.id)))).flat();
  const driven = [...releases.filter(r => !r.rollout), ...children];
  const problems: string[] = [];
  const checks = await checkReleases({ store, router, releases, driven, entities: ENTITIES, plan: PLAN, killedAt, problems });
  const { takeoverSeconds, afterKillSeconds } = checks;
  const regions = await checkRegionReleases(store, router, parents, children, REGION_ENTITIES, FIRST_STABLE, problems);
  const figures = {
    trials,
    pauses: pausesDone,
    pausesBeforeRouterCall,
    pausesBeforeFaultyRaise,
    releases: releases.length,
    succeeded: releases.filter(r => r.state === 'succeeded').length,
    rolledBack: releases.filter(r => r.state === 'rolled_back').length,
    takeovers: takeoverSeconds.length,
    longestTakeoverSeconds: takeoverSeconds.length ? Math.max(...takeoverSeconds) : 0,
    medianTakeoverSeconds: takeoverSeconds.length ? [...takeoverSeconds].sort((x, y) => x - y)[Math.floor(takeoverSeconds.length / 2)] : 0,
    longestTakeoverAfterKillSeconds: afterKillSeconds.length ? Math.max(...afterKillSeconds) : 0,
    metricOutages: outages,
    metricOutageSeconds: Math.round(outageSeconds),
    routerWeightChanges: router.log.filter(l => !l.refused).length,
    staleRouterCallsRefused: router.log.filter(l => l.refused).length,
    stepsRunTwice: checks.stepsTwice,
    weightsAbovePlan: checks.aboveplan,
    timelineEventsLost: checks.eventsLost,
    releasesStuck: checks.stuck,
    promotionsOnMissingData: checks.missingData,
    killsWhileDeploying,
    killsWhilePromoting,
    killsWhileCoordinating,
    ...regions,
    canaryDeploys: router.changes.filter(c => c.side === 'canary').length,
    stableDeploys: router.changes.filter(c => c.side === 'stable').length,
    trafficBeforeReady: router.unreadyTraffic.length,
    deploysUnderTraffic: router.deploysUnderTraffic.length,
    wrongSidesAtTheEnd: checks.wrongSides,
    minutes: Math.round((Date.now() - started) / 6000) / 10,
  };
  await knex.destroy();
  await dropDatabase(database);
  router.stop();
  for (const problem of problems.slice(0, 20)) process.stdout.write(`problem: ${problem}\n`);
  process.stdout.write(
    `reliability: ${figures.trials} kill trials, ${figures.pauses} pauses (${figures.pausesBeforeRouterCall} right before a router call, ${figures.pausesBeforeFaultyRaise} right before giving a faulty canary traffic, woken after its rollback), ${figures.releases} releases (${figures.succeeded} succeeded, ${figures.rolledBack} rolled back), ` +
      `${figures.takeovers} takeovers (longest ${figures.longestTakeoverSeconds.toFixed(1)} s, median ${figures.medianTakeoverSeconds.toFixed(1)} s after the dead replica's last tick; ` +
      `longest ${figures.longestTakeoverAfterKillSeconds.toFixed(1)} s after a SIGKILL, with 1 s ticks), ` +
      `${figures.metricOutages} metric outages (${figures.metricOutageSeconds} s), ${figures.routerWeightChanges} router weight changes ` +
      `(${figures.staleRouterCallsRefused} stale calls refused by the fencing token); ` +
      `steps run twice ${figures.stepsRunTwice}, weights above plan ${figures.weightsAbovePlan}, timeline events lost ${figures.timelineEventsLost}, ` +
      `releases stuck ${figures.releasesStuck}, promotions on missing data ${figures.promotionsOnMissingData}; ` +
      `lifecycle: ${figures.killsWhileDeploying} kills while deploying, ${figures.killsWhilePromoting} while promoting, ${figures.canaryDeploys} canary and ${figures.stableDeploys} stable deploys; ` +
      `traffic before ready ${figures.trafficBeforeReady}, deploys under traffic ${figures.deploysUnderTraffic}, wrong sides ${figures.wrongSidesAtTheEnd}; ` +
      `across ${REGIONS.length} regions: ${figures.regionReleases} releases (${figures.regionReleasesSucceeded} succeeded, ${figures.regionReleasesRolledBack} rolled back everywhere), ` +
      `${figures.killsWhileCoordinating} kills of the replica coordinating one, region states lost ${figures.regionStatesLost}, waves or regions run twice ${figures.wavesRunTwice}, ` +
      `regions skewed ${figures.regionsSkewed}, region wrong sides ${figures.regionWrongSides}; ${figures.minutes} min\n`,
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  const bad =
    figures.stepsRunTwice + figures.weightsAbovePlan + figures.timelineEventsLost + figures.releasesStuck + figures.promotionsOnMissingData +
    figures.trafficBeforeReady + figures.deploysUnderTraffic + figures.wrongSidesAtTheEnd +
    figures.regionStatesLost + figures.wavesRunTwice + figures.regionsSkewed + figures.regionWrongSides;
  process.exit(bad > 0 || figures.trials < TRIALS ? 1 : 0);
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});

/** RELEASE_PILOT_RELIABILITY_VERBOSE: what a release still active at the end holds (lease, revision, operation) and its last timeline entries. */
async function dumpStuck(knex: Knex, router: RouterServer) {
  const rows = await knex('releases').whereNotNull('active_entity_ref').select('id', 'entity_ref', 'region', 'state', 'canary_weight', 'lease_owner', 'fencing_token', 'revision', 'updated_at', 'lifecycle');
  const replicas = await knex('release_replicas').select('id', 'seen_at', 'expires_at');
  process.stdout.write(`stuck-dump: replicas ${JSON.stringify(replicas)}\n`);
  for (const row of rows) {
    process.stdout.write(`stuck-dump: ${JSON.stringify(row)} router ${router.weightOf(sideKey(row.entity_ref, row.region ?? undefined))}%\n`);
    const events = await knex('release_events').where({ release_id: row.id }).orderBy('id', 'desc').limit(8).select('at', 'type', 'message');
    for (const e of events.reverse()) process.stdout.write(`stuck-dump:   ${e.at} ${e.type} ${String(e.message).slice(0, 160)}\n`);
  }
}
