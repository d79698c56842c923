/**
 * How often does the judge stop a healthy release? Runs N healthy canaries (A/A: the canary behaves
 * exactly like the baseline) of the simulated fleet through the real engine and judge in virtual time,
 * one seed per run, and counts the outcomes. Usage:
 *   yarn bench:healthy [--runs N] [--plan demo|default] [--judge sequential|fixed] [--min-canary-errors N]
 */
import {
  Release,
  ReleasePlan,
  StoredSample,
} from '@release-pilot/plugin-releases-common';
import {
  DEFAULT_BASELINE,
  SimulatedFleet,
} from '@release-pilot/plugin-releases-backend-module-simulator';
import {
  DEFAULT_FIXED_RULE_OPTIONS,
  FixedRuleJudge,
} from '../src/analysis/FixedRuleJudge';
import { Judge } from '../src/analysis/judge';
import { analysisWindowStart, judgeTick } from '../src/analysis/judgeTick';
import {
  DEFAULT_SEQUENTIAL_OPTIONS,
  SequentialJudge,
} from '../src/analysis/sequential/SequentialJudge';
import { handleReleaseEvent } from '../src/engine/engine';
import { DEFAULT_PLAN } from '../src/engine/plans';

const PLANS: Record<string, ReleasePlan> = {
  default: DEFAULT_PLAN,
  // The demo plan of app-config.yaml.
  demo: {
    name: 'demo',
    steps: [[1, 50], [5, 200], [10, 500], [25, 1000], [50, 2000], [100, 5000]].map(
      ([weight, minCanaryRequests]) => ({ weight, minDurationSeconds: 6, minCanaryRequests }),
    ),
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Milliseconds of every judge evaluation, for the cost per tick. */
const judgeTimings: number[] = [];

function runHealthyRelease(plan: ReleasePlan, seed: number, judge: Judge, windowSeconds: number): Release {
  const fleet = new SimulatedFleet({ seed, rps: 2000, baseline: DEFAULT_BASELINE, faults: [] });
  const context = { entityRef: 'component:default/bench', releaseId: `run-${seed}`, version: `1.0.${seed}` };
  let t = Date.UTC(2026, 0, 1);
  let release: Release = handleReleaseEvent(
    {
      id: context.releaseId, entityRef: context.entityRef, version: context.version, target: 'simulator',
      state: 'pending', plan, currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0,
      consecutiveProviderErrors: 0, revision: 0, createdBy: 'bench', createdAt: new Date(t).toISOString(),
      updatedAt: new Date(t).toISOString(), metadata: {},
    },
    { type: 'start' },
    new Date(t),
  ).release;
  const samples: StoredSample[] = [];
  while (release.state === 'running') {
    const from = new Date(t);
    t += 1000;
    const now = new Date(t);
    const sample = fleet.simulate(context, { from, to: now }, release.canaryWeight);
    const since = analysisWindowStart(release, now, windowSeconds);
    const window = samples.filter(s => s.at > since);
    const judgeStarted = performance.now();
    const { verdict, state } = judgeTick(judge, release, window, sample, now);
    judgeTimings.push(performance.now() - judgeStarted);
    samples.push({ at: now.toISOString(), stepIndex: release.currentStep, canaryWeight: release.canaryWeight, canary: sample.canary, baseline: sample.baseline });
    release = { ...release, judgeState: state };
    release = handleReleaseEvent(release, { type: 'tick', verdict, canaryRequests: sample.canary.requests }, now).release;
  }
  return release;
}

const runs = Number(arg('runs', '1000'));
const planName = arg('plan', 'demo');
const minCanaryErrors = Number(arg('min-canary-errors', String(DEFAULT_FIXED_RULE_OPTIONS.minCanaryErrors)));
const windowSeconds = Number(arg('window-seconds', '30'));
const plan = PLANS[planName];
if (!plan || !(runs > 0) || !(minCanaryErrors >= 0)) {
  console.error(`Usage: --runs N (>0) --plan ${Object.keys(PLANS).join('|')} --min-canary-errors N --window-seconds N`);
  process.exit(2);
}
const judgeType = arg('judge', 'sequential');
if (judgeType !== 'sequential' && judgeType !== 'fixed') {
  console.error('Usage: --judge sequential|fixed');
  process.exit(2);
}
const judge: Judge =
  judgeType === 'fixed'
    ? new FixedRuleJudge({ ...DEFAULT_FIXED_RULE_OPTIONS, minCanaryErrors })
    : new SequentialJudge();
const outcomes: Record<string, number> = {};
const stops: Record<string, number> = {};
const started = Date.now();
for (let seed = 1; seed <= runs; seed++) {
  const release = runHealthyRelease(plan, seed, judge, windowSeconds);
  const outcome = release.state === 'rolling_back' ? 'rolled back' : release.state;
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  if (release.state !== 'succeeded') {
    const metric = release.reason?.startsWith('Error rate') ? 'error rate' : 'p95 latency';
    const key = `${outcome} on ${metric} at ${release.plan.steps[release.currentStep].weight}%`;
    stops[key] = (stops[key] ?? 0) + 1;
  }
}
const rate = (n = 0) => `${((100 * n) / runs).toFixed(1)}%`;
const result = {
  plan: planName,
  runs,
  judge:
    judgeType === 'fixed'
      ? { type: 'fixed', ...DEFAULT_FIXED_RULE_OPTIONS, minCanaryErrors, windowSeconds }
      : { type: 'sequential', ...DEFAULT_SEQUENTIAL_OPTIONS },
  succeeded: outcomes.succeeded ?? 0,
  falseRollbacks: outcomes['rolled back'] ?? 0,
  falseRollbackRate: rate(outcomes['rolled back']),
  falsePauses: outcomes.paused ?? 0,
  falsePauseRate: rate(outcomes.paused),
  stops,
  judgeMsPerTick: (() => {
    const sorted = [...judgeTimings].sort((a, b) => a - b);
    const at = (q: number) => Number(sorted[Math.floor(q * (sorted.length - 1))].toFixed(4));
    return { ticks: sorted.length, median: at(0.5), p99: at(0.99) };
  })(),
  seconds: (Date.now() - started) / 1000,
};
console.log(JSON.stringify(result, null, 2));
