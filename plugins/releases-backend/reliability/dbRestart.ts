import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { checkReleases, listAllReleases } from './checks';
import { OwnPostgres } from './postgres';
import { Replica } from './ReplicaProcess';
import { connect, databaseService, RouterServer } from './shared';

/**
 * `yarn test:db-restart`: the releases plugin's own database goes away in the middle of a run.
 * Two replicas of the driver (`reliability-replica`) drive `--releases` releases at once (default
 * 1,000; every eighth faulty) against the reliability run's shared router and deployer, on a
 * PostgreSQL server of the run's own. Once the releases are under way the server is stopped the
 * hard way (`pg_ctl -m immediate`: every connection cut, crash recovery on start), kept down for
 * `--down` seconds (10) and started again. Then every release must finish, and the reliability
 * run's checker looks at each: router calls without a persisted intent, timeline events lost, steps
 * run twice, promotions on missing data, releases stuck, traffic before ready, deploys under traffic
 * and wrong sides must all be 0. It prints how long after the database was back every release that
 * was in flight moved again (its next sample or timeline event stored).
 */

const { values } = parseArgs({ options: { releases: { type: 'string', default: '1000' }, down: { type: 'string', default: '10' }, 'run-in': { type: 'string', default: '20' } } });
const option = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got '${values[name]}'`);
  return value;
};
const RELEASES = option('releases');
const DOWN_SECONDS = option('down');
/** Seconds after the replicas start before the database goes away. */
const RUN_IN_SECONDS = option('run-in');
const PLAN: ReleasePlan = {
  name: 'db-restart',
  steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 15, minCanaryRequests: 50 })),
  watchSeconds: 0,
};
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

async function main() {
  const started = Date.now();
  const pg = await OwnPostgres.start();
  process.env.RELEASE_PILOT_IT_PG_HOST = '127.0.0.1';
  process.env.RELEASE_PILOT_IT_PG_PORT = String(pg.port);
  const database = 'rp_db_restart';
  const router = new RouterServer();
  const routerUrl = await router.start();
  const replicas = [new Replica('a', database, routerUrl), new Replica('b', database, routerUrl)];
  try {
    const admin = connect('postgres');
    await admin.raw(`create database "${database}"`);
    await admin.destroy();
    const knex = connect(database);
    const store = await ReleasesStore.create({ database: databaseService(knex) });
    const entities = Array.from({ length: RELEASES }, (_, i) => `component:default/svc-${i}`);
    for (const [i, entityRef] of entities.entries()) {
      const now = new Date().toISOString();
      const release: Release = {
        id: randomUUID(), entityRef, version: `1.1.0${i % 8 === 7 ? '-faulty' : ''}`, target: 'simulator', state: 'pending', plan: PLAN,
        currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0, consecutiveProviderErrors: 0, revision: 0,
        createdBy: 'db-restart', createdAt: now, updatedAt: now, metadata: {}, deployMode: 'deployer',
      };
      await store.createRelease(release, { at: now, actor: 'db-restart', type: 'created', message: 'requested by the database-restart run' });
    }
    process.stdout.write(`db-restart: ${RELEASES} releases created on PostgreSQL at 127.0.0.1:${pg.port}; starting 2 replicas\n`);
    await Promise.all(replicas.map(r => r.start()));
    await sleep(RUN_IN_SECONDS * 1000);

    const states: Array<{ state: string; n: string }> = await knex('releases').whereNull('parent_id').groupBy('state').select('state').count({ n: '*' });
    process.stdout.write(`db-restart: releases by state: ${states.map(s => `${s.n} ${s.state}`).join(', ')}; stopping PostgreSQL for ${DOWN_SECONDS} s\n`);
    const down = Date.now();
    pg.down();
    await sleep(DOWN_SECONDS * 1000);
    await pg.up();
    const up = Date.now();
    const whileDown = router.log.filter(l => Date.parse(l.at) >= down && Date.parse(l.at) <= up);
    process.stdout.write(`db-restart: PostgreSQL back after ${((up - down) / 1000).toFixed(1)} s; ${whileDown.length} router calls while it was gone\n`);

    // Every release in flight finishes (the longest plan is three steps of 15 s).
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline && (await knex('releases').whereNotNull('active_entity_ref').count({ n: '*' }))[0].n !== '0') await sleep(2000);
    replicas.forEach(r => r.kill());

    // The releases in flight when the database went away (not finished before), and when each moved
    // again: its first sample or timeline event stored after the database was back. For comparison,
    // how often each got a sample in the 10 s before the database went away (the tick's cadence).
    const downAt = new Date(down).toISOString();
    const since = new Date(up).toISOString();
    const inFlight = (await listAllReleases(store)).filter(r => !r.finishedAt || r.finishedAt > downAt);
    const movedAfter: number[] = [];
    const gapsBefore: number[] = [];
    let neverMoved = 0;
    for (const { id } of inFlight) {
      const before = await store.listSamples(id, { since: new Date(down - 10_000).toISOString(), until: downAt });
      for (let i = 1; i < before.length; i++) gapsBefore.push((Date.parse(before[i].at) - Date.parse(before[i - 1].at)) / 1000);
      const [sample] = await store.listSamples(id, { since, limit: 1 });
      const event = (await store.listEvents(id)).find(e => e.at >= since);
      const first = Math.min(...[sample?.at, event?.at].filter((at): at is string => !!at).map(at => Date.parse(at)));
      if (Number.isFinite(first)) movedAfter.push((first - up) / 1000);
      else neverMoved++;
    }

    const releases = await listAllReleases(store);
    const problems: string[] = [];
    const checks = await checkReleases({ store, router, releases, driven: releases, entities, plan: PLAN, problems });
    const figures = {
      releases: releases.length,
      succeeded: releases.filter(r => r.state === 'succeeded').length,
      rolledBack: releases.filter(r => r.state === 'rolled_back').length,
      inFlightAtRestart: inFlight.length,
      databaseGoneSeconds: Math.round((up - down) / 100) / 10,
      routerCallsWhileGone: whileDown.length,
      routerCallsWithoutPersistedIntent: checks.aboveplan,
      timelineEventsLost: checks.eventsLost,
      stepsRunTwice: checks.stepsTwice,
      promotionsOnMissingData: checks.missingData,
      releasesStuck: checks.stuck,
      trafficBeforeReady: router.unreadyTraffic.length,
      deploysUnderTraffic: router.deploysUnderTraffic.length,
      wrongSides: checks.wrongSides,
      staleRouterCallsRefused: router.log.filter(l => l.refused).length,
      takeovers: checks.takeoverSeconds.length,
      sampleGapBeforeP50Seconds: Math.round(quantile(gapsBefore, 0.5) * 10) / 10,
      sampleGapBeforeP99Seconds: Math.round(quantile(gapsBefore, 0.99) * 10) / 10,
      movedAgainP50Seconds: Math.round(quantile(movedAfter, 0.5) * 10) / 10,
      movedAgainMaxSeconds: Math.round(Math.max(...movedAfter) * 10) / 10,
      neverMovedAgain: neverMoved,
      minutes: Math.round((Date.now() - started) / 6000) / 10,
    };
    await knex.destroy();
    for (const problem of problems.slice(0, 20)) process.stdout.write(`problem: ${problem}\n`);
    process.stdout.write(
      `db-restart: ${figures.releases} releases (${figures.succeeded} succeeded, ${figures.rolledBack} rolled back), ${figures.inFlightAtRestart} in flight when PostgreSQL went away for ${figures.databaseGoneSeconds} s; ` +
        `router calls while it was gone ${figures.routerCallsWhileGone}; router calls without persisted intent ${figures.routerCallsWithoutPersistedIntent}, timeline events lost ${figures.timelineEventsLost}, ` +
        `steps run twice ${figures.stepsRunTwice}, promotions on missing data ${figures.promotionsOnMissingData}, releases stuck ${figures.releasesStuck}, ` +
        `traffic before ready ${figures.trafficBeforeReady}, deploys under traffic ${figures.deploysUnderTraffic}, wrong sides ${figures.wrongSides}; ` +
        `${figures.takeovers} takeovers, ${figures.staleRouterCallsRefused} stale router calls refused; ` +
        `every release in flight moved again ${figures.movedAgainP50Seconds} s (p50) and at most ${figures.movedAgainMaxSeconds} s after the database was back (${figures.neverMovedAgain} never did); before it went away a release got a sample every ${figures.sampleGapBeforeP50Seconds} s (p50, p99 ${figures.sampleGapBeforeP99Seconds} s); 1 s ticks, lease 2 s; ${figures.minutes} min\n`,
    );
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    const bad =
      figures.routerCallsWithoutPersistedIntent + figures.timelineEventsLost + figures.stepsRunTwice + figures.promotionsOnMissingData + figures.releasesStuck +
      figures.trafficBeforeReady + figures.deploysUnderTraffic + figures.wrongSides + figures.neverMovedAgain;
    process.exitCode = bad > 0 || figures.inFlightAtRestart === 0 ? 1 : 0;
  } finally {
    replicas.forEach(r => r.kill());
    router.stop();
    pg.remove();
  }
}

main().then(() => process.exit()).catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
