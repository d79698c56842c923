import { distribution, runScenario } from '../simulate/runScenario';
import { Scenario } from '../simulate/scenario';
import { oracleRun } from './oracleSprt';

/** The plans of the power table: the demo's (6 s steps), the built-in default's (1 min), and the same weights over 2 and 15 minutes. */
export const GRID_PLANS: Record<string, number> = { demo: 6, default: 60, '2-min steps': 120, '15-min steps': 900 };
/** The engine's tick on each: the demo's 1 s, the default 5 s, 10 s on the longest (the oracle decides on the same ticks). */
const GRID_TICKS: Record<string, number> = { demo: 1, default: 5, '2-min steps': 5, '15-min steps': 10 };
const WEIGHTS = [1, 5, 10, 25, 50, 100];
const BASELINE = { errorRate: 0.005, latencyMs: { p50: 90, p95: 145 } };

/** A plan's steps; `lastWeight` below 100 keeps a baseline share on the last step (compared in docs/judge.md). */
export function gridScenario(plan: string, rps: number, ratio: number | undefined, lastWeight = 100): Scenario {
  return {
    name: `${plan} ${rps}rps ${ratio ? `errors ${ratio}x` : 'A/A'}`,
    tickSeconds: GRID_TICKS[plan],
    router: { latencyMs: 50 },
    traffic: { rps },
    baseline: BASELINE,
    canary: ratio ? { fault: { errorRate: BASELINE.errorRate * ratio } } : {},
    plan: { steps: WEIGHTS.map(weight => ({ weight: weight === 100 ? lastWeight : weight, seconds: GRID_PLANS[plan] })) },
    judge: 'sequential',
  };
}

export interface PowerRow {
  plan: string;
  rps: number;
  ratio: number;
  judge: string;
  runs: number;
  detectedShare: number;
  medianSeconds: number | null;
  oracleShare: number;
  oracleMedianSeconds: number | null;
  /** The judge's median over the oracle's (both over their detected runs). */
  ratioToOracle: number | null;
  /** Detected share at least the oracle's minus 5 points, and the median within 1.2x of the oracle's. */
  meetsGoals: boolean;
}

/** Error-only regressions through a judge and the oracle, on the same plans, traffic and seeds. */
export function powerRow(plan: string, rps: number, ratio: number, judge: string, runs: number, seed: number, lastWeight = 100): PowerRow {
  const scenario = gridScenario(plan, rps, ratio, lastWeight);
  const result = runScenario(scenario, { runs, seed, judge });
  const oracle = Array.from({ length: runs }, (_, i) => oracleRun(scenario, seed + i, ratio)).filter((s): s is number => s !== undefined);
  const oracleMedian = distribution(oracle).median;
  const detectedShare = result.detectionSeconds.count / runs;
  const oracleShare = oracle.length / runs;
  const median = result.detectionSeconds.median;
  const ratioToOracle = median !== null && oracleMedian ? Number((median / oracleMedian).toFixed(2)) : null;
  return {
    plan, rps, ratio, judge, runs,
    detectedShare, medianSeconds: median, oracleShare, oracleMedianSeconds: oracleMedian, ratioToOracle,
    meetsGoals: detectedShare >= oracleShare - 0.05 && (oracleShare === 0 || (ratioToOracle !== null && ratioToOracle <= 1.2)),
  };
}

/** A/A releases (canary = baseline) on a plan: the share rolled back. */
export function falseRollbackShare(plan: string, rps: number, judge: string, runs: number, seed: number, lastWeight = 100): number {
  return runScenario(gridScenario(plan, rps, undefined, lastWeight), { runs, seed, judge }).falseRollbackRate;
}
