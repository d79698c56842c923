import { emptyTrafficStats, Release } from '@release-pilot/plugin-releases-common';
import { parseArgs } from 'node:util';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { toRow } from '../src/database/rows';
import { OVERVIEW_EVENT_TYPES, teamOverview } from '../src/overview/teamOverview';
import { connect, databaseService } from '../reliability/shared';
import { httpAnswerTimes } from './historyHttp';

/**
 * `yarn bench:history --releases 100000`: a history of that many ended releases (50 teams, 2,000
 * services, 90 days; each with its timeline, and the last `--with-samples` with a sample per
 * `--tick` seconds over ten minutes) plus `--active` releases in progress, on PostgreSQL. It prints the table sizes
 * before and after the samples' compaction, and the time of the queries behind the org page (active
 * releases, a page and a filtered page) and a team's overview (its releases over 30 days, their
 * timeline moments, the DORA figures): the median of `--runs` runs each, from the store and over HTTP.
 */
const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '100000' },
    active: { type: 'string', default: '1000' },
    'with-samples': { type: 'string', default: '10000' },
    runs: { type: 'string', default: '20' },
    /** The tick the samples were stored at: ten minutes of samples per release. */
    tick: { type: 'string', default: '5' },
  },
});
const RELEASES = Number(values.releases);
const ACTIVE = Number(values.active);
const WITH_SAMPLES = Number(values['with-samples']);
const RUNS = Number(values.runs);
const TICK = Number(values.tick);
const TEAMS = 50;
const SERVICES = 2000;
const DAY = 86_400_000;

function release(i: number, now: number, active: boolean): Release {
  const service = i % SERVICES;
  const created = active ? now - 60_000 : now - Math.floor(((i * 7919) % (90 * 1440)) * 60_000) - 3_600_000;
  const rolledBack = !active && i % 9 === 0;
  let state: Release['state'] = 'succeeded';
  if (active) state = 'running';
  else if (rolledBack) state = 'rolled_back';
  return {
    id: `${active ? 'a' : '0'}0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    entityRef: active ? `component:default/active-${i}` : `component:default/service-${service}`,
    version: `1.${i}.0`,
    target: 'vm',
    state,
    plan: { name: 'default', steps: [1, 5, 10, 25, 50, 100].map(weight => ({ weight, minDurationSeconds: 60, minCanaryRequests: 100 })) },
    currentStep: active ? 1 : 5,
    canaryWeight: active ? 5 : 0,
    stepCanaryRequests: 0,
    consecutiveProviderErrors: 0,
    revision: 12,
    createdBy: 'user:default/bench',
    owner: `group:default/team-${service % TEAMS}`,
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created + 600_000).toISOString(),
    ...(active ? {} : { finishedAt: new Date(created + 600_000).toISOString() }),
    ...(rolledBack ? { reason: 'Error rate 0.3% vs 0.02% baseline' } : {}),
    metadata: { commitTime: new Date(created - 3_600_000).toISOString() },
  };
}

async function insertAll(knex: ReturnType<typeof connect>, table: string, rows: object[]) {
  for (let i = 0; i < rows.length; i += 1000) await knex(table).insert(rows.slice(i, i + 1000));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main() {
  const database = `rp_history_${process.pid}`;
  const admin = connect('postgres');
  await admin.raw(`create database "${database}"`);
  const knex = connect(database, 10);
  try {
    const store = await ReleasesStore.create({ database: databaseService(knex) });
    const now = Date.now();
    const t0 = performance.now();
    for (let start = 0; start < RELEASES + ACTIVE; start += 5000) {
      const batch: Release[] = [];
      for (let i = start; i < Math.min(start + 5000, RELEASES + ACTIVE); i++) batch.push(i < RELEASES ? release(i, now, false) : release(i - RELEASES, now, true));
      await insertAll(knex, 'releases', batch.map(r => toRow(r)));
      const events = batch.flatMap(r => {
        const at = (ms: number) => new Date(Date.parse(r.createdAt) + ms).toISOString();
        const list = [
          { type: 'created', at: at(0) },
          { type: 'started', at: at(5_000) },
          ...(r.state === 'rolled_back' ? [{ type: 'rollback_started', at: at(300_000) }, { type: 'traffic_restored', at: at(301_000) }, { type: 'rolled_back', at: at(310_000) }] : []),
          ...(r.state === 'succeeded' ? [{ type: 'succeeded', at: at(600_000) }] : []),
        ];
        return list.map(e => ({ release_id: r.id, at: e.at, actor: 'release-pilot', type: e.type, message: e.type, data: null }));
      });
      await insertAll(knex, 'release_events', events);
    }
    // The most recent ended releases with a sample per tick over ten minutes.
    const stats = JSON.stringify({ ...emptyTrafficStats(), requests: 40, errors: 0 });
    const withSamples: Array<{ id: string; created_at: string }> = await knex('releases').whereNull('active_entity_ref').orderBy('created_at', 'desc').limit(WITH_SAMPLES).select('id', 'created_at');
    for (const r of withSamples) {
      const start = Date.parse(r.created_at);
      const ticks = Math.round(600 / TICK);
      const rows = Array.from({ length: ticks }, (_, s) => ({
        release_id: r.id,
        at: new Date(start + (s + 1) * TICK * 1000).toISOString(),
        step_index: Math.min(5, Math.floor((s * 6) / ticks)),
        canary_weight: [1, 5, 10, 25, 50, 100][Math.min(5, Math.floor((s * 6) / ticks))],
        canary: stats,
        baseline: stats,
        verdict: '{"outcome":"pass","summary":"Canary healthy so far","evidence":[]}',
      }));
      await insertAll(knex, 'release_samples', rows);
    }
    await knex.raw('analyze');
    const seeded = (performance.now() - t0) / 1000;
    const before = await store.retention.tableSizes();
    const c0 = performance.now();
    let compacted = { releases: 0, rowsBefore: 0, rowsAfter: 0 };
    for (;;) {
      const part = await store.retention.compactDue(new Date(), { compactAfterMinutes: 60, sampleBucketSeconds: 30 }, 500);
      if (part.releases === 0) break;
      compacted = { releases: compacted.releases + part.releases, rowsBefore: compacted.rowsBefore + part.rowsBefore, rowsAfter: compacted.rowsAfter + part.rowsAfter };
    }
    const compactSeconds = (performance.now() - c0) / 1000;
    await knex.raw('vacuum full release_samples');
    const after = await store.retention.tableSizes();

    const team = ['group:default/team-7'];
    const since = new Date(now - 30 * DAY).toISOString();
    const times = {
      orgActivePage: await timed(() => store.listReleases({ active: true, limit: 50, offset: 0 })),
      orgActiveLastPage: await timed(() => store.listReleases({ active: true, limit: 50, offset: ACTIVE - 50 })),
      orgHistoryPage: await timed(() => store.listReleases({ limit: 50, offset: 0 })),
      orgOwnerFilter: await timed(() => store.listReleases({ owner: team, limit: 50, offset: 0 })),
      teamOverview: await timed(async () => {
        const releases = (await store.listOwnedReleases(team, since)).map(r => ({ ...r, judgeState: undefined }));
        const moments = await store.firstEventTimes(releases.map(r => r.id), OVERVIEW_EVENT_TYPES);
        return teamOverview({ group: team[0], groups: team, from: new Date(since), to: new Date(now), releases, moments });
      }),
    };
    const http = await httpAnswerTimes(
      knex,
      team[0],
      {
        orgActivePage: '/releases?active=true&limit=50&offset=0',
        orgActiveLastPage: `/releases?active=true&limit=50&offset=${ACTIVE - 50}`,
        orgHistoryPage: '/releases?limit=50&offset=0',
        orgOwnerFilter: `/releases?owner=${encodeURIComponent(team[0])}&limit=50&offset=0`,
        teamOverview: `/teams/overview?group=${encodeURIComponent(team[0])}&days=30`,
      },
      RUNS,
    );
    const mb = (bytes?: number) => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MB`);
    const lines = [
      `bench:history  ${RELEASES} ended + ${ACTIVE} active releases, ${TEAMS} teams, ${SERVICES} services, 90 days, PostgreSQL (seeded in ${seeded.toFixed(0)} s)`,
      `table            rows before   size before   rows after   size after (the ${WITH_SAMPLES} most recent with a sample per ${TICK} s tick, compacted to 30 s)`,
      ...Object.keys(before).map(t => `${t.padEnd(16)} ${String(before[t].rows).padStart(11)} ${mb(before[t].bytes).padStart(13)} ${String(after[t].rows).padStart(12)} ${mb(after[t].bytes).padStart(12)}`),
      `compaction: ${compacted.releases} releases, ${compacted.rowsBefore} sample rows into ${compacted.rowsAfter}, ${compactSeconds.toFixed(1)} s`,
      `median of ${RUNS} (ms): ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
      `the same over HTTP (the plugin's routes, permission check and catalog lookup; median of ${RUNS}, ms): ${Object.entries(http)
        .map(([k, v]) => `${k} ${v.ms.toFixed(1)} (HTTP ${v.status}, ${(v.bytes / 1024).toFixed(0)} KB)`)
        .join(', ')}`,
    ];
    const failed = Object.entries(http).filter(([, v]) => v.status !== 200);
    if (failed.length) throw new Error(`not answered 200: ${failed.map(([k, v]) => `${k} ${v.status}`).join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await knex.destroy();
    await admin.raw(`drop database if exists "${database}" with (force)`).catch(() => undefined);
    await admin.destroy();
  }
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
