import { DEFAULT_WATCH_OPTIONS, JudgeCatalog, SequentialJudge, systemClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { DEFAULT_BASELINE, SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { ConfigReader } from '@backstage/config';
import { PrometheusClient, PrometheusMetricProvider, readPrometheusOptions } from '@release-pilot/plugin-releases-backend-module-prometheus';
import { MetricProvider } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { ReleaseDriver } from '../src/driver/ReleaseDriver';
import { TargetRegistry } from '../src/driver/TargetRegistry';
import { connect, consoleLogger, databaseService } from '../reliability/shared';

/**
 * One replica of the scale benchmark: the releases plugin's driver on PostgreSQL, ticking every
 * `tick` seconds as the backend's scheduler does, on the simulated fleet (router and metrics in
 * this process). Every second it prints one line of JSON with what it cost since the last line: the
 * lag of each release's tick (from the tick's due time to its verdict saved), CPU time, RSS,
 * database queries, provider calls and the CPU time the simulated fleet itself took.
 */
async function main() {
  const [database, owner, tickArg, metricsArg = 'simulator', judgeStateArg = '10'] = process.argv.slice(2);
  const tickSeconds = Number(tickArg);
  const logger = consoleLogger(owner, true);
  const knex = connect(database, 10);
  let queries = 0;
  knex.on('query', () => queries++);
  const store = await ReleasesStore.create({ database: databaseService(knex), judgeStateSeconds: Number(judgeStateArg) });
  const fleet = new SimulatedFleet({ seed: 7, rps: 200, baseline: DEFAULT_BASELINE, faults: [] });
  // The fleet simulates every second of traffic in this process; a real provider does that work elsewhere.
  let fleetMs = 0;
  // A deliberately broken run, to show that `--check` fails it: this release's metrics always fail (it ends on provider errors).
  const broken = process.env.RELEASE_PILOT_BENCH_BREAK_METRICS_OF;
  const metrics: MetricProvider = {
    getSample: (context, interval) => {
      if (context.releaseId === broken) return Promise.reject(new Error('metrics broken on purpose (RELEASE_PILOT_BENCH_BREAK_METRICS_OF)'));
      const t0 = performance.now();
      // The fleet's getSample does all its work before it returns (an async function without awaits).
      const sample = fleet.getSample(context, interval);
      fleetMs += performance.now() - t0;
      return sample;
    },
  };
  // `--metrics prometheus`: a real Prometheus at that address, with the provider's defaults (batched queries).
  let prometheusQueries = 0;
  const prometheus = () => {
    // RELEASE_PILOT_BENCH_BATCH_MS=0 turns batching off, for comparison.
    const windowMs = Number(process.env.RELEASE_PILOT_BENCH_BATCH_MS ?? 10);
    const options = readPrometheusOptions(new ConfigReader({ type: 'prometheus', baseUrl: metricsArg, timeoutSeconds: 10, batch: { windowMs } }), 'bench');
    const counting = ((...args: Parameters<typeof fetch>) => {
      prometheusQueries++;
      return fetch(...args);
    }) as typeof fetch;
    return new PrometheusMetricProvider(options, new PrometheusClient(options, counting));
  };
  const targets = new TargetRegistry();
  targets.add({ name: 'simulator', trafficRouter: fleet, metricProvider: metricsArg === 'simulator' ? metrics : prometheus() });
  const lags: number[] = [];
  const driven = new Set<string>();
  const driver = new ReleaseDriver({
    store,
    targets,
    judges: JudgeCatalog.of(new SequentialJudge()),
    watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
    clock: systemClock,
    logger,
    owner,
    options: {
      analysisWindowSeconds: 30,
      leaseSeconds: Math.max(2, tickSeconds * 2),
      engine: { maxConsecutiveProviderErrors: 10 },
      // RELEASE_PILOT_BENCH_PER_TARGET: releases.engine.concurrencyPerTarget (default 64, of 256 at once); more of a target's releases sampled at once share a batched query.
      ...(process.env.RELEASE_PILOT_BENCH_PER_TARGET && { concurrency: { releases: 256, perTarget: Number(process.env.RELEASE_PILOT_BENCH_PER_TARGET) } }),
    },
    onDriven: (release, lagMs) => {
      lags.push(lagMs);
      driven.add(release.id);
    },
  });
  let cpu = process.cpuUsage();
  let last = performance.now();
  let calls = 0;
  setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const line = {
      owner,
      wallMs: now - last,
      cpuMs: (used.user + used.system) / 1000,
      fleetMs,
      rss: process.memoryUsage().rss,
      heapUsed: process.memoryUsage().heapUsed,
      queries,
      providerCalls: driver.calls.total() - calls,
      prometheusQueries,
      lags: lags.splice(0),
      driven: driven.size,
    };
    last = now;
    calls = driver.calls.total();
    fleetMs = 0;
    queries = 0;
    prometheusQueries = 0;
    driven.clear();
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }, 1000).unref();
  // A clean exit at the end of the run (a --cpu-prof profile is written then); the kill is SIGKILL.
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`${owner} ready\n`);
  let due = Math.ceil(Date.now() / 1000) * 1000;
  for (;;) {
    const wait = Math.max(0, due - Date.now());
    await new Promise(resolve => setTimeout(resolve, wait));
    await driver.tickAndWatch(tickSeconds, new Date(due)).catch(error => logger.warn(`tick failed: ${error.message}`));
    due += tickSeconds * 1000;
    // A tick that ran past the next due time: the next one starts now, its lag counted from when it was due.
    if (due < Date.now() - tickSeconds * 1000) due = Math.floor(Date.now() / 1000) * 1000;
  }
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
