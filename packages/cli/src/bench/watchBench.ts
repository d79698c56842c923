/**
 * `yarn bench:watch`: the post-release watch on the simulated fleet with a daily pattern (traffic
 * 50 % to 150 % of 2,000 requests/s over the day). Each run is a 30-minute watch starting at a random
 * time of day, judged against the 7 days of history before it, with a 1 s tick: healthy runs count
 * false alarms; faulty runs (a fault under the full load from minute 10) count detections and the
 * seconds from the fault's first traffic to the rollback decision. Prints a table, then JSON.
 *   yarn bench:watch [--runs N] [--seed S]
 */
import { BehaviourProfile, DEFAULT_WATCH_OPTIONS, SeededRandom, WatchJudge } from '@release-pilot/plugin-releases-core';
import {
  DEFAULT_BASELINE,
  SimulatedFleet,
} from '@release-pilot/plugin-releases-backend-module-simulator';
import { mergeTrafficStats, TrafficStats } from '@release-pilot/plugin-releases-common';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive whole number\n`);
    process.exit(2);
  }
  return value;
}

const runs = arg('runs', 200);
const seed = arg('seed', 1);
const WATCH_SECONDS = 1800;
const FAULT_AFTER = 600;
const DAY = 86_400;
const START = Date.parse('2026-11-01T00:00:00Z') / 1000;

const SCENARIOS: Array<{ name: string; fault?: Partial<BehaviourProfile> }> = [
  { name: 'healthy' },
  { name: 'errors 0.02 % -> 0.06 % (3x)', fault: { errorRate: 0.0006 } },
  {
    name: 'p95 145 -> 200 ms (+38 %)',
    fault: { latencyMs: { p50: 100, p95: 200 } },
  },
];

const options = DEFAULT_WATCH_OPTIONS;
const context = {
  entityRef: 'component:default/bench',
  releaseId: 'bench',
  version: '2.0.0-watched',
  annotations: {},
};

async function main() {
  const rows = [];
  for (const scenario of SCENARIOS) {
    const fleet = new SimulatedFleet({
      seed,
      rps: 2000,
      dailyAmplitude: 0.5,
      baseline: DEFAULT_BASELINE,
      faults: scenario.fault
        ? [
            {
              versionPattern: /-watched$/,
              minWeight: 100,
              ...DEFAULT_BASELINE,
              ...scenario.fault,
            },
          ]
        : [],
    });
    const random = new SeededRandom(seed);
    const detections: number[] = [];
    let falseAlarms = 0;
    let judgeMs = 0;
    let ticks = 0;
    const started = Date.now();
    for (let run = 0; run < runs; run++) {
      // A random time of day on one of the days after the first week.
      const start = START + 7 * DAY + Math.floor(random.uniform() * 7 * DAY);
      const history = await fleet.getHistory(context, {
        from: new Date((start - options.historyDays * DAY) * 1000),
        to: new Date(start * 1000),
        bucketSeconds: options.bucketSeconds,
      });
      const judge = new WatchJudge(options);
      const seconds: TrafficStats[] = [];
      let state: unknown;
      for (let t = 1; t <= WATCH_SECONDS; t++) {
        const faulty = t > FAULT_AFTER;
        // The stable version before the fault; the new version (faulty under full load) after it.
        const second = fleet.simulate(
          faulty ? context : { ...context, version: '2.0.0' },
          {
            from: new Date((start + t - 1) * 1000),
            to: new Date((start + t) * 1000),
          },
          100,
        );
        seconds.push(second.canary);
        const window = seconds.slice(-options.bucketSeconds);
        const before = process.hrtime.bigint();
        const result = judge.judge({
          window: mergeTrafficStats(window),
          windowSeconds: window.length,
          history: judge.needsHistory(state) ? history : undefined,
          state,
          watch: { startedAt: new Date(start * 1000), seconds: WATCH_SECONDS },
          now: new Date((start + t) * 1000),
        });
        if (t > 1) {
          judgeMs += Number(process.hrtime.bigint() - before) / 1e6;
          ticks++;
        }
        state = result.state;
        if (result.verdict.outcome === 'fail') {
          if (scenario.fault && faulty) detections.push(t - FAULT_AFTER);
          else falseAlarms++;
          break;
        }
      }
    }
    const sorted = [...detections].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length
        ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
        : null;
    rows.push({
      scenario: scenario.name,
      runs,
      falseAlarms,
      detected: detections.length,
      detectionSeconds: {
        median: at(0.5),
        p95: at(0.95),
        max: sorted.length ? sorted[sorted.length - 1] : null,
      },
      judgeMsPerTick: Number((judgeMs / Math.max(ticks, 1)).toFixed(4)),
      seconds: (Date.now() - started) / 1000,
    });
  }

  const pad = (v: unknown, n: number) => String(v ?? '-').padEnd(n);
  process.stdout.write(
    `${pad('scenario', 34)}${pad('runs', 6)}${pad('false alarms', 14)}${pad(
      'detected',
      10,
    )}${pad('detect med/p95/max s (1 s tick)', 33)}judge ms/tick\n`,
  );
  for (const r of rows) {
    const d = r.detectionSeconds;
    process.stdout.write(
      `${pad(r.scenario, 34)}${pad(r.runs, 6)}${pad(r.falseAlarms, 14)}${pad(
        r.detected,
        10,
      )}${pad(d.median === null ? '-' : `${d.median}/${d.p95}/${d.max}`, 33)}${
        r.judgeMsPerTick
      }\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      runs,
      seed,
      tickSeconds: 1,
      watchSeconds: WATCH_SECONDS,
      faultAfterSeconds: FAULT_AFTER,
      options,
      results: rows,
    })}\n`,
  );
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
