/**
 * `yarn bench:healthy`: how often does a judge stop a healthy release? Runs N healthy (A/A) canaries
 * of the simulated fleet (2,000 requests/s, 0.02 % errors, p95 145 ms) through the real engine and
 * judge in virtual time, one seed per run, and counts the outcomes and the judge's cost per tick.
 *   yarn bench:healthy [--runs N] [--plan demo|default] [--judge sequential|fixed|kayenta] [--min-canary-errors N]
 */
import { DEFAULT_FIXED_RULE_OPTIONS, DEFAULT_PLAN, FixedRuleJudge } from '@release-pilot/plugin-releases-core';
import { PlanStep } from '@release-pilot/plugin-releases-common';
import { JUDGES, runOnce, SimulatedAnalysis } from '../simulate/runScenario';
import { Scenario } from '../simulate/scenario';

const PLANS: Record<string, PlanStep[]> = {
  default: DEFAULT_PLAN.steps,
  // The demo plan of app-config.yaml.
  demo: [[1, 50], [5, 200], [10, 500], [25, 1000], [50, 2000], [100, 5000]].map(
    ([weight, minCanaryRequests]) => ({ weight, minDurationSeconds: 6, minCanaryRequests }),
  ),
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const runs = Number(arg('runs', '1000'));
const planName = arg('plan', 'demo');
const judgeName = arg('judge', 'sequential');
const minCanaryErrors = Number(arg('min-canary-errors', String(DEFAULT_FIXED_RULE_OPTIONS.minCanaryErrors)));
const steps = PLANS[planName];
if (!steps || !JUDGES[judgeName] || !(runs > 0) || !(minCanaryErrors >= 0)) {
  process.stderr.write(
    `Usage: --runs N (>0) --plan ${Object.keys(PLANS).join('|')} --judge ${Object.keys(JUDGES).join('|')} --min-canary-errors N\n`,
  );
  process.exit(2);
}
const makeJudge = (): SimulatedAnalysis =>
  judgeName === 'fixed'
    ? { judge: new FixedRuleJudge({ ...DEFAULT_FIXED_RULE_OPTIONS, minCanaryErrors }), limits: { failureLimit: 0 } }
    : JUDGES[judgeName]();

const scenario: Scenario = {
  name: `healthy-${planName}`,
  tickSeconds: 1,
  router: { latencyMs: 50 },
  traffic: { rps: 2000 },
  baseline: { errorRate: 0.0002, latencyMs: { p50: 90, p95: 145 } },
  canary: {},
  plan: { steps: steps.map(s => ({ weight: s.weight, seconds: s.minDurationSeconds, minCanaryRequests: s.minCanaryRequests })) },
  judge: judgeName,
};

const timings: number[] = [];
const outcomes: Record<string, number> = {};
const started = Date.now();
for (let seed = 1; seed <= runs; seed++) {
  const outcome = runOnce(scenario, makeJudge(), seed, timings);
  outcomes[outcome.state] = (outcomes[outcome.state] ?? 0) + 1;
}
const sorted = timings.sort((a, b) => a - b);
const at = (q: number) => Number(sorted[Math.floor(q * (sorted.length - 1))].toFixed(4));
const rate = (n = 0) => `${((100 * n) / runs).toFixed(1)}%`;
process.stdout.write(
  `${JSON.stringify(
    {
      plan: planName,
      judge: judgeName,
      minCanaryErrors: judgeName === 'fixed' ? minCanaryErrors : undefined,
      runs,
      succeeded: outcomes.succeeded ?? 0,
      falseRollbacks: outcomes.rolled_back ?? 0,
      falseRollbackRate: rate(outcomes.rolled_back),
      falsePauses: outcomes.paused ?? 0,
      falsePauseRate: rate(outcomes.paused),
      judgeMsPerTick: { ticks: sorted.length, median: at(0.5), p99: at(0.99) },
      seconds: (Date.now() - started) / 1000,
    },
    null,
    2,
  )}\n`,
);
