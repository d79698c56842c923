/**
 * `yarn bench:judge`: the scenarios of scenarios/bench through our judge and three baselines on the
 * same simulated traffic (same seeds): the fixed rule (error rate > 1.5x, p95 > 2x), Kayenta's
 * Mann-Whitney classifier re-run at every tick, and Argo/Flagger-style thresholds (errors <= 1 %,
 * p95 <= 500 ms, 3 failures tolerated). Prints a table, then one JSON object. `detected` is the share
 * of runs whose rollback came after the fault's first traffic; detection times are over those runs.
 *   yarn bench:judge [--runs N] [--healthy-runs N] [--seed S] [--judges sequential,fixed,kayenta,threshold] [--only NAME-PART]
 * With --grid, the power table instead (powerGrid.ts): error-only regressions of --ratios (1.5,2,3)
 * at --rps (20,100,300,2000) over --plans (demo, default, 2-min steps, 15-min steps), each judge's
 * detected share and median time next to the oracle SPRT's, and the A/A false rollback rate per
 * traffic level on the longest plan (--aa-runs, default 1000). --last-weight 95 ends every plan at
 * 95 % instead of 100 %, keeping a 5 % baseline (the alternative to comparing the canary alone with
 * the baseline's earlier rate).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runScenario, ScenarioResult } from '../simulate/runScenario';
import { parseScenario } from '../simulate/scenario';
import { oracleDetectionSeconds } from './oracle';
import { falseRollbackShare, GRID_PLANS, powerRow } from './powerGrid';

const JUDGES = ['sequential', 'fixed', 'kayenta', 'threshold'] as const;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive whole number\n`);
    process.exit(2);
  }
  return value;
}

const judgesArg = process.argv.indexOf('--judges');
const judges = judgesArg > 0 ? process.argv[judgesArg + 1].split(',') : [...JUDGES];
const unknown = judges.filter(j => !(JUDGES as readonly string[]).includes(j));
if (unknown.length > 0) {
  process.stderr.write(`Unknown judge ${unknown.join(', ')}; use ${JUDGES.join(', ')}\n`);
  process.exit(2);
}
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : '';
const runs = arg('runs', 200);
const healthyRuns = arg('healthy-runs', 1000);
const seed = arg('seed', 1);
const dir = resolve(require.resolve('@release-pilot/cli/package.json'), '../scenarios/bench');

function listArg(name: string, fallback: string[]): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',') : fallback;
}

if (process.argv.includes('--grid')) {
  const plans = listArg('plans', Object.keys(GRID_PLANS));
  const badPlan = plans.find(p => !(p in GRID_PLANS));
  if (badPlan) {
    process.stderr.write(`Unknown plan '${badPlan}'; use ${Object.keys(GRID_PLANS).join(', ')}\n`);
    process.exit(2);
  }
  const rpsList = listArg('rps', ['20', '100', '300', '2000']).map(Number);
  const ratios = listArg('ratios', ['1.5', '2', '3']).map(Number);
  const gridRuns = arg('runs', 100);
  const aaRuns = arg('aa-runs', 1000);
  const lastWeight = arg('last-weight', 100);
  const pad = (v: unknown, n: number) => String(v ?? '-').padEnd(n);
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  process.stdout.write(`power: error-only regressions, baseline errors 0.5 %, tick 1 s (demo), 5 s (default, 2-min), 10 s (15-min), weights 1, 5, 10, 25, 50, ${lastWeight} %, ${gridRuns} runs per row, alpha 0.01; oracle: SPRT knowing the true ratio (vs 1.2)\n`);
  process.stdout.write(`${pad('plan', 14)}${pad('rps', 6)}${pad('errors', 8)}${pad('judge', 11)}${pad('detected', 10)}${pad('median s', 10)}${pad('oracle det', 12)}${pad('oracle s', 10)}${pad('x oracle', 10)}goals\n`);
  // The goals are the sequential judge's; the others are baselines (their A/A rates below show what their speed costs).
  const goals = (r: { judge: string; meetsGoals: boolean }) => {
    if (r.judge !== 'sequential') return 'baseline';
    return r.meetsGoals ? 'met' : 'MISSED';
  };
  const rows = [];
  for (const plan of plans) {
    for (const rps of rpsList) {
      for (const ratio of ratios) {
        for (const judge of judges) {
          const r = powerRow(plan, rps, ratio, judge, gridRuns, seed, lastWeight);
          rows.push(r);
          process.stdout.write(
            `${pad(plan, 14)}${pad(rps, 6)}${pad(`${ratio}x`, 8)}${pad(judge, 11)}${pad(pct(r.detectedShare), 10)}${pad(r.medianSeconds, 10)}${pad(pct(r.oracleShare), 12)}${pad(r.oracleMedianSeconds, 10)}${pad(r.ratioToOracle, 10)}${goals(r)}\n`,
          );
        }
      }
    }
  }
  const longest = plans.reduce((a, b) => (GRID_PLANS[a] >= GRID_PLANS[b] ? a : b));
  const aa = [];
  for (const rps of rpsList) {
    for (const judge of judges) {
      const share = falseRollbackShare(longest, rps, judge, aaRuns, seed, lastWeight);
      aa.push({ plan: longest, rps, judge, runs: aaRuns, falseRollbackShare: share });
      process.stdout.write(`A/A ${longest} ${rps} rps ${judge}: ${(100 * share).toFixed(1)}% false rollbacks of ${aaRuns}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ grid: rows, aa, seed })}\n`);
  process.exit(0);
}

const rows: Array<ScenarioResult & { oracleSeconds?: number; ratioToOracle?: number; seconds: number }> = [];
for (const file of readdirSync(dir).filter(f => f.endsWith('.yaml') && f.includes(only)).sort()) {
  const scenario = parseScenario(readFileSync(resolve(dir, file), 'utf8'));
  const healthy = !scenario.canary.fault;
  const oracleSeconds = oracleDetectionSeconds(scenario);
  for (const judge of judges) {
    const started = Date.now();
    const result = runScenario(scenario, { runs: healthy ? healthyRuns : runs, seed, judge });
    const median = result.detectionSeconds.median;
    // A median over the detected runs alone would flatter a judge that misses most of them: the
    // ratio is given only when at least half of the runs detected the fault.
    const mostDetected = result.detectionSeconds.count >= result.runs / 2;
    rows.push({
      ...result,
      oracleSeconds,
      ratioToOracle: oracleSeconds && median !== null && mostDetected ? Number((median / oracleSeconds).toFixed(2)) : undefined,
      seconds: (Date.now() - started) / 1000,
    });
  }
}

const pad = (v: unknown, n: number) => String(v ?? '-').padEnd(n);
process.stdout.write(
  `${pad('scenario', 30)}${pad('judge', 11)}${pad('tick s', 7)}${pad('runs', 6)}${pad('rolled back', 12)}${pad('promoted', 9)}${pad('paused', 7)}${pad('false RB', 9)}${pad('detected', 9)}${pad('detect med/p95/max s', 22)}${pad('weight 0 med s', 15)}${pad('oracle s', 9)}${pad('x oracle', 9)}exposed req (med)\n`,
);
for (const r of rows) {
  const d = r.detectionSeconds;
  process.stdout.write(
    `${pad(r.scenario, 30)}${pad(r.judge, 11)}${pad(r.tickSeconds, 7)}${pad(r.runs, 6)}${pad(r.rolledBack, 12)}${pad(r.promoted, 9)}${pad(r.paused, 7)}${pad(`${(100 * r.falseRollbackRate).toFixed(1)}%`, 9)}${pad(r.oracleSeconds === undefined ? '-' : `${Math.round((100 * d.count) / r.runs)}%`, 9)}${pad(d.count ? `${d.median}/${d.p95}/${d.max}` : '-', 22)}${pad(r.rollbackCompleteSeconds.median?.toFixed(2), 15)}${pad(r.oracleSeconds, 9)}${pad(r.ratioToOracle, 9)}${r.exposedRequests.median}\n`,
  );
}
process.stdout.write(`${JSON.stringify({ runs, healthyRuns, seed, results: rows })}\n`);
