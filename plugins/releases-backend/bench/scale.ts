import { Release } from '@release-pilot/plugin-releases-common';
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { connect, databaseService } from '../reliability/shared';
import { machineCpu } from './machine';
import { startPrometheusFleet } from './prometheus';

/**
 * `yarn bench:scale --releases 1000 --replicas 1|2|3`: that many active releases on PostgreSQL,
 * driven by that many replicas of the releases plugin's driver (separate processes, as backend
 * replicas are) at a 1 s tick on the simulated fleet. After a warm-up it measures, per replica:
 * the lag from each tick's due time to each release's verdict saved (p50, p99), CPU % and RSS,
 * database queries and provider calls per tick and per release, and the releases it drives. With
 * two replicas or more it then kills one with SIGKILL and measures how long its releases take to
 * move again on the others, and how they split.
 */
const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '1000' },
    replicas: { type: 'string', default: '1' },
    tick: { type: 'string', default: '1' },
    /** How often a tick that only measured writes the judge's state (`releases.engine.judgeStateSeconds`); 0: every tick. */
    'judge-state-seconds': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    kill: { type: 'boolean', default: true },
    json: { type: 'boolean', default: false },
    /** Where the metrics come from: `simulator` (in each replica's process) or `prometheus` (a real one scraping an exporter of every service). */
    metrics: { type: 'string', default: 'simulator' },
    /** CI's short trial: fail unless every replica drove its share and every release of the killed one moved again. */
    check: { type: 'boolean', default: false },
  },
});
const RELEASES = Number(values.releases);
const REPLICAS = Number(values.replicas);
const TICK = Number(values.tick);
const WARMUP = Number(values.warmup);
const SECONDS = Number(values.seconds);
if (values.metrics !== 'simulator' && values.metrics !== 'prometheus') throw new Error(`--metrics must be simulator or prometheus, got '${values.metrics}'`);

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

interface Report {
  owner: string;
  wallMs: number;
  cpuMs: number;
  fleetMs: number;
  rss: number;
  heapUsed: number;
  queries: number;
  providerCalls: number;
  prometheusQueries: number;
  lags: number[];
  driven: number;
}

class Replica {
  readonly reports: Report[] = [];
  process?: ChildProcess;
  measuring = false;
  constructor(readonly owner: string, private readonly database: string, private readonly metrics: string) {}

  async start() {
    // RELEASE_PILOT_BENCH_NODE_ARGS: options for the replicas' node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    const nodeArgs = process.env.RELEASE_PILOT_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, path.join(path.dirname(process.argv[1]), 'bench-scale-replica'), this.database, this.owner, String(TICK), this.metrics, String(values['judge-state-seconds'])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.process = child;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', chunk => {
        buffer += chunk;
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.endsWith(' ready')) resolve();
          else if (line.startsWith('{') && this.measuring) this.reports.push(JSON.parse(line));
          else if (!line.startsWith('{') && line.trim()) process.stderr.write(`${line}\n`);
        }
      });
      child.on('exit', code => reject(new Error(`${this.owner} exited with ${code}`)));
    });
  }

  async stop() {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }

  /** Each whole minute of the measurement: the highest RSS and the lowest heap in use (what is alive after a collection), MB. */
  memoryByMinute(): Array<{ rssMb: number; heapMinMb: number }> {
    const minutes: Array<{ rssMb: number; heapMinMb: number }> = [];
    let wall = 0;
    for (const r of this.reports) {
      const m = Math.floor(wall / 60_000);
      wall += r.wallMs;
      minutes[m] ??= { rssMb: 0, heapMinMb: Infinity };
      minutes[m].rssMb = Math.max(minutes[m].rssMb, r.rss / 2 ** 20);
      minutes[m].heapMinMb = Math.min(minutes[m].heapMinMb, r.heapUsed / 2 ** 20);
    }
    return minutes.slice(0, Math.floor(wall / 60_000));
  }

  summary() {
    const sum = (f: (r: Report) => number) => this.reports.reduce((a, r) => a + f(r), 0);
    const wall = sum(r => r.wallMs);
    const ticks = wall / 1000 / TICK;
    const lags = this.reports.flatMap(r => r.lags);
    const drivenPerTick = lags.length / ticks;
    return {
      owner: this.owner,
      lagP50Ms: quantile(lags, 0.5),
      lagP99Ms: quantile(lags, 0.99),
      cpuPercent: (100 * sum(r => r.cpuMs)) / wall,
      cpuPercentWithoutFleet: (100 * sum(r => r.cpuMs - r.fleetMs)) / wall,
      rssMb: Math.max(...this.reports.map(r => r.rss)) / 2 ** 20,
      rssFirstMb: (this.reports[0]?.rss ?? NaN) / 2 ** 20,
      memoryByMinute: this.memoryByMinute(),
      queriesPerTick: sum(r => r.queries) / ticks,
      providerCallsPerTick: sum(r => r.providerCalls) / ticks,
      prometheusQueriesPerTick: sum(r => r.prometheusQueries ?? 0) / ticks,
      releasesDrivenPerTick: drivenPerTick,
      cpuMsPerReleaseTick: sum(r => r.cpuMs - r.fleetMs) / lags.length,
      queriesPerReleaseTick: sum(r => r.queries) / lags.length,
      providerCallsPerReleaseTick: sum(r => r.providerCalls) / lags.length,
    };
  }
}

function makeRelease(i: number, now: string): Release {
  return {
    id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    entityRef: `component:default/service-${i}`,
    version: '2.0.0',
    target: 'simulator',
    state: 'running',
    // One step that holds for an hour: every release stays active and judged for the whole run.
    plan: { name: 'bench', steps: [{ weight: 10, minDurationSeconds: 3600, minCanaryRequests: 100 }, { weight: 100, minDurationSeconds: 60, minCanaryRequests: 100 }] },
    currentStep: 0,
    stepStartedAt: now,
    canaryWeight: 10,
    stepCanaryRequests: 0,
    consecutiveProviderErrors: 0,
    revision: 0,
    createdBy: 'user:default/bench',
    createdAt: new Date(Date.parse(now) + i).toISOString(),
    updatedAt: now,
    metadata: {},
  };
}

async function main() {
  const database = `rp_scale_${process.pid}`;
  const admin = connect('postgres');
  await admin.raw(`create database "${database}"`);
  const knex = connect(database);
  const replicas: Replica[] = [];
  const fleet = values.metrics === 'prometheus' ? await startPrometheusFleet(RELEASES, 200) : undefined;
  try {
    const store = await ReleasesStore.create({ database: databaseService(knex) });
    const now = new Date().toISOString();
    for (let i = 0; i < RELEASES; i++) {
      await store.createRelease(makeRelease(i, now), { at: now, actor: 'user:default/bench', type: 'created', message: 'requested' });
    }
    for (let r = 0; r < REPLICAS; r++) replicas.push(new Replica(`replica-${r + 1}`, database, fleet?.url ?? 'simulator'));
    await Promise.all(replicas.map(r => r.start()));
    process.stderr.write(`${RELEASES} releases, ${REPLICAS} replica(s), tick ${TICK} s: warming up ${WARMUP} s, measuring ${SECONDS} s\n`);
    await sleep(WARMUP * 1000);
    const machine = machineCpu(values.metrics === 'prometheus' ? ['postgres', 'prometheus', 'bench (exporter)'] : ['postgres']);
    for (const r of replicas) r.measuring = true;
    machine.start();
    await sleep(SECONDS * 1000);
    for (const r of replicas) r.measuring = false;
    const cpu = machine.stop();
    const held = async () => {
      const rows: Array<{ lease_owner: string | null; n: string }> = await knex('releases').whereNotNull('active_entity_ref').groupBy('lease_owner').select('lease_owner').count({ n: '*' });
      return Object.fromEntries(rows.map(row => [row.lease_owner ?? 'none', Number(row.n)]));
    };
    const steady = await held();
    const result: Record<string, unknown> = {
      metrics: values.metrics,
      releases: RELEASES,
      replicas: REPLICAS,
      tickSeconds: TICK,
      measuredSeconds: SECONDS,
      perReplica: replicas.map(r => ({ ...r.summary(), releasesHeld: steady[r.owner] ?? 0 })),
      machine: cpu,
    };
    if (REPLICAS >= 2 && values.kill) result.kill = await killOne(replicas, knex, held);
    // Releases that ended during the run (a healthy release the judge rolls back by chance, at most its false-rollback rate), and why.
    const ended: Array<{ id: string; state: string }> = await knex('releases').whereNull('active_entity_ref').select('id', 'state');
    result.ended = await Promise.all(
      ended.map(async r => ({ ...r, why: (await knex('release_events').where({ release_id: r.id }).orderBy('id', 'desc').first('type', 'message')) ?? {} })),
    );
    const [{ bytes }] = (await knex.raw(`select pg_database_size(current_database()) as bytes`)).rows;
    result.databaseMb = Number(bytes) / 2 ** 20;
    const [columns] = (await knex.raw(`select avg(length(judge_state)) as judge_state, avg(length(latest_verdict)) as latest_verdict, avg(length(coalesce(lifecycle, ''))) as lifecycle, avg(length(plan)) as plan from releases`)).rows;
    const [samples] = (await knex.raw(`select count(*) as n, avg(length(canary) + length(baseline) + length(coalesce(verdict, ''))) as bytes from release_samples`)).rows;
    result.bytes = { ...Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, Math.round(Number(v))])), sample: Math.round(Number(samples.bytes)), samples: Number(samples.n) };
    print(result);
    if (values.check) {
      const problems = check(result);
      for (const problem of problems) process.stdout.write(`problem: ${problem}\n`);
      process.exitCode = problems.length ? 1 : 0;
    }
  } finally {
    // The replicas end before their database is dropped.
    await Promise.all(replicas.map(r => r.stop()));
    await fleet?.stop();
    await knex.destroy();
    await admin.raw(`drop database if exists "${database}" with (force)`).catch(() => undefined);
    await admin.destroy();
  }
}

/** Kills the last replica and measures when each of its releases got its next sample from another, and where they went. */
async function killOne(replicas: Replica[], knex: ReturnType<typeof connect>, held: () => Promise<Record<string, number>>) {
  const victim = replicas[replicas.length - 1];
  const ids: string[] = (await knex('releases').where({ lease_owner: victim.owner }).select('id')).map((r: { id: string }) => r.id);
  const killedAt = Date.now();
  victim.process!.kill('SIGKILL');
  const killedIso = new Date(killedAt).toISOString();
  // When each release's first sample after the kill was seen stored (polled every 100 ms): a sample's
  // own time is its tick's moment, which comes before the sample is driven and saved.
  const seen = new Map<string, number>();
  let leasesMovedMs = NaN;
  for (let waited = 0; waited < 60_000; waited += 100) {
    await sleep(100);
    if (Number.isNaN(leasesMovedMs)) {
      const [{ left }] = await knex('releases').where({ lease_owner: victim.owner }).whereNotNull('active_entity_ref').count({ left: '*' });
      if (Number(left) === 0) leasesMovedMs = Date.now() - killedAt;
    }
    const rows: Array<{ release_id: string }> = await knex('release_samples').whereIn('release_id', ids).where('at', '>', killedIso).distinct('release_id');
    for (const row of rows) if (!seen.has(row.release_id)) seen.set(row.release_id, Date.now() - killedAt);
    if (seen.size === ids.length) break;
  }
  const movedMs = [...seen.values()];
  await sleep(3000);
  const after = await held();
  const takeovers: Array<{ data: string }> = await knex('release_events').where({ type: 'taken_over' }).where('at', '>', killedIso).select('data');
  const byNewOwner: Record<string, number> = {};
  for (const t of takeovers) {
    const to = JSON.parse(t.data).to as string;
    byNewOwner[to] = (byNewOwner[to] ?? 0) + 1;
  }
  return {
    killed: victim.owner,
    itsReleases: ids.length,
    movedAgain: movedMs.length,
    leasesMovedMs,
    takeoverP50Ms: quantile(movedMs, 0.5),
    takeoverMaxMs: Math.max(...movedMs),
    takenOverBy: byNewOwner,
    heldAfter: after,
  };
}

/** What the short trial must show: the load spread (each replica within 25 % of an even share) and a complete takeover. */
function check(result: Record<string, any>): string[] {
  const problems: string[] = [];
  const even = result.releases / result.replicas;
  for (const r of result.perReplica) {
    if (Math.abs(r.releasesHeld - even) > 0.25 * even) problems.push(`${r.owner} held ${r.releasesHeld} releases; an even share is ${even}`);
    if (!(r.releasesDrivenPerTick > 0)) problems.push(`${r.owner} drove no release`);
  }
  const k = result.kill;
  if (k && k.movedAgain !== k.itsReleases) problems.push(`only ${k.movedAgain} of the killed replica's ${k.itsReleases} releases moved again`);
  const active = result.releases - result.ended.length;
  if (k && Object.values(k.heldAfter).reduce((a: number, b: any) => a + b, 0) !== active) problems.push(`after the kill the replicas hold ${JSON.stringify(k.heldAfter)} of ${active} active releases`);
  // Only the judge may end a release here (the fleet is healthy: at most its false-rollback rate); anything else is the driver's fault.
  for (const e of result.ended) {
    if (e.state !== 'rolled_back' || e.why.type !== 'rolled_back' || /provider error/i.test(e.why.message)) problems.push(`release ${e.id} ended ${e.state}: ${JSON.stringify(e.why)}`);
  }
  return problems;
}

function print(result: Record<string, any>) {
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const batched = process.env.RELEASE_PILOT_BENCH_BATCH_MS === '0' ? 'not batched' : 'queries batched';
  const source = result.metrics === 'prometheus' ? `Prometheus (scraping ${result.releases} services every 1 s; ${batched})` : 'simulated fleet';
  const lines = [`bench:scale  ${result.releases} releases, ${result.replicas} replica(s), tick ${result.tickSeconds} s, ${result.measuredSeconds} s measured, PostgreSQL, ${source}, judge state written every ${values['judge-state-seconds']} s`];
  lines.push('replica      held  lag p50  lag p99   CPU %  (w/o fleet)  RSS MB  queries/tick  provider calls/tick  per release-tick: CPU ms  queries  calls');
  for (const r of result.perReplica) {
    lines.push(
      [
        r.owner.padEnd(11),
        f(r.releasesHeld).padStart(5),
        `${f(r.lagP50Ms)} ms`.padStart(8),
        `${f(r.lagP99Ms)} ms`.padStart(8),
        f(r.cpuPercent, 1).padStart(7),
        f(r.cpuPercentWithoutFleet, 1).padStart(12),
        `${f(r.rssFirstMb)}-${f(r.rssMb)}`.padStart(7),
        f(r.queriesPerTick).padStart(13),
        f(r.providerCallsPerTick).padStart(20),
        f(r.cpuMsPerReleaseTick, 2).padStart(25),
        f(r.queriesPerReleaseTick, 1).padStart(8),
        f(r.providerCallsPerReleaseTick, 1).padStart(6),
      ].join(' '),
    );
  }
  if (result.kill) {
    const k = result.kill;
    lines.push(
      `kill ${k.killed} (${k.itsReleases} releases, lease ${Math.max(2, result.tickSeconds * 2)} s): all its leases taken ${f(k.leasesMovedMs)} ms after the kill; ${k.movedAgain} moved again (next sample seen stored; polled every 100 ms), p50 ${f(k.takeoverP50Ms)} ms, max ${f(k.takeoverMaxMs)} ms after the kill; taken over by ${JSON.stringify(k.takenOverBy)}; held after ${JSON.stringify(k.heldAfter)}`,
    );
  }
  for (const r of result.perReplica) {
    if (r.memoryByMinute.length < 2) continue;
    lines.push(`${r.owner} memory by minute (MB, highest RSS / lowest heap in use): ${r.memoryByMinute.map((m: { rssMb: number; heapMinMb: number }) => `${f(m.rssMb)}/${f(m.heapMinMb)}`).join(', ')}`);
  }
  if (result.metrics === 'prometheus') {
    lines.push(`Prometheus HTTP queries per tick: ${result.perReplica.map((r: any) => `${r.owner} ${f(r.prometheusQueriesPerTick)}`).join(', ')} (unbatched it would be 6 per release-tick)`);
  }
  const m = result.machine;
  const share = Object.entries(m.percentOfOneCore as Record<string, number>)
    .map(([name, p]) => `${name} ${f(p, 1)} %`);
  lines.push(`machine while measuring: ${f(m.busyPercent, 1)} % of its ${m.cores} cores busy; of one core: ${share.join(', ')}`);
  for (const e of result.ended) lines.push(`ended during the run: ${e.id} ${e.state} (${e.why.type}: ${e.why.message})`);
  lines.push(`database ${f(result.databaseMb)} MB after the run; bytes per release row ${JSON.stringify(result.bytes)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  error => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
