import { AnalysisLimits, analysisWindowStart, DEFAULT_KAYENTA_OPTIONS, EngineOptions, FixedRuleJudge, handleReleaseEvent, Judge, JudgeCatalog, KayentaJudge, SeededRandom, SequentialJudge, ThresholdJudge, WatchJudge } from '@release-pilot/plugin-releases-core';
import { SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { Release, StoredSample } from '@release-pilot/plugin-releases-common';
import { Scenario } from './scenario';

/** A judge and the limits the engine counts its measurements against. */
export interface SimulatedAnalysis {
  judge: Judge;
  limits: AnalysisLimits;
}

const NO_TOLERANCE: AnalysisLimits = { failureLimit: 0 };

/** The judges a scenario can name. */
export const JUDGES: Record<string, () => SimulatedAnalysis> = {
  default: () => ({ judge: new SequentialJudge(), limits: NO_TOLERANCE }),
  sequential: () => ({ judge: new SequentialJudge(), limits: NO_TOLERANCE }),
  fixed: () => ({ judge: new FixedRuleJudge(), limits: NO_TOLERANCE }),
  kayenta: () => ({ judge: new KayentaJudge(DEFAULT_KAYENTA_OPTIONS), limits: NO_TOLERANCE }),
  // Argo/Flagger-style bounds: errors at most 1 %, p95 at most 500 ms, 3 failed measurements tolerated.
  threshold: () => ({
    judge: new ThresholdJudge({
      metrics: [
        { metric: 'errorRate', max: 0.01 },
        { metric: 'p95LatencyMs', max: 500 },
      ],
      minRequests: 10,
    }),
    limits: { failureLimit: 3, inconclusiveLimit: 30 },
  }),
};

/** How one simulated release ended. */
export interface RunOutcome {
  state: Release['state'];
  /** Seconds from the fault's first canary traffic to the rollback decision. */
  detectionSeconds?: number;
  /** Seconds from the fault's first canary traffic to the router's canary weight reading 0 (its latency included). */
  rollbackCompleteSeconds?: number;
  /** The release rolled back before any fault took traffic. */
  rolledBackHealthy: boolean;
  exposedRequests: number;
  exposedErrors: number;
  seconds: number;
}

/** Distribution summary of a measure over runs. */
export interface Distribution {
  count: number;
  median: number | null;
  p95: number | null;
  max: number | null;
}

/** What `release-pilot simulate --json` prints. */
export interface ScenarioResult {
  scenario: string;
  judge: string;
  /** Every time is quantized by the tick: the engine decides once per tick. */
  tickSeconds: number;
  /** The simulated router's mean time to apply the rollback's weight. */
  routerLatencyMs: number;
  runs: number;
  seed: number;
  rolledBack: number;
  promoted: number;
  paused: number;
  /** Share of runs rolled back while no fault had taken traffic (for a healthy scenario: all rollbacks). */
  falseRollbackRate: number;
  detectionSeconds: Distribution;
  rollbackCompleteSeconds: Distribution;
  exposedRequests: Distribution;
  exposedErrors: Distribution;
}

export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { count: 0, median: null, p95: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { count: sorted.length, median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

/** Runs one release of a scenario in virtual time through the real engine and judge. */
export function runOnce(
  scenario: Scenario,
  analysis: SimulatedAnalysis,
  seed: number,
  /** When given, receives the milliseconds of every judge evaluation. */
  judgeTimings?: number[],
): RunOutcome {
  const { fault } = scenario.canary;
  const engine: EngineOptions = {
    maxConsecutiveProviderErrors: 60,
    analysis: { ...analysis, watch: new WatchJudge(), windowSeconds: 30 },
  };
  const fleet = new SimulatedFleet({
    seed,
    rps: scenario.traffic.rps,
    baseline: scenario.baseline,
    faults: fault
      ? [{ versionPattern: /^faulty$/, errorRate: fault.errorRate ?? scenario.baseline.errorRate, latencyMs: fault.latencyMs ?? scenario.baseline.latencyMs }]
      : [],
  });
  const start = Date.UTC(2026, 0, 1);
  const steps = scenario.plan.steps.map(s => ({ weight: s.weight, minDurationSeconds: s.seconds, minCanaryRequests: s.minCanaryRequests ?? 0 }));
  const iso = new Date(start).toISOString();
  let release: Release = handleReleaseEvent(
    {
      id: `sim-${seed}`, entityRef: `component:default/${scenario.name}`, version: 'candidate', target: 'simulator',
      state: 'pending', plan: { name: scenario.name, steps, warmUpSeconds: scenario.plan.warmUpSeconds }, currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0,
      consecutiveProviderErrors: 0, revision: 0, createdBy: 'simulation', createdAt: iso, updatedAt: iso, metadata: {},
    },
    { type: 'start' },
    new Date(start),
  ).release;

  const samples: StoredSample[] = [];
  const planSeconds = steps.reduce((sum, s) => sum + s.minDurationSeconds, 0);
  const tick = scenario.tickSeconds;
  let t = start;
  let faultStart: number | undefined;
  let exposedRequests = 0;
  let exposedErrors = 0;
  let decidedAt: number | undefined;
  let rollbackCompleteAt: number | undefined;
  // The router applies the rollback's weight some time after the decision (seeded per run): until
  // it reads 0, the canary keeps serving at its old weight.
  const latencyRandom = SeededRandom.fromKey(`router|${seed}`);
  const routerLatencyMs = () => scenario.router.latencyMs * (0.5 + latencyRandom.uniform());
  while (release.state === 'running' && t - start < planSeconds * 3000) {
    const from = new Date(t);
    t += tick * 1000;
    const now = new Date(t);
    const elapsed = (from.getTime() - start) / 1000;
    const faultActive =
      fault !== undefined &&
      (fault.atWeight === undefined || release.canaryWeight >= fault.atWeight) &&
      (fault.afterSeconds === undefined || elapsed >= fault.afterSeconds) &&
      (fault.firstSeconds === undefined || elapsed < fault.firstSeconds);
    const context = { entityRef: release.entityRef, releaseId: release.id, version: faultActive ? 'faulty' : 'healthy', annotations: {} };
    const sample = fleet.simulate(context, { from, to: now }, release.canaryWeight);
    if (faultActive && sample.canary.requests > 0) {
      faultStart ??= from.getTime();
      exposedRequests += sample.canary.requests;
      exposedErrors += sample.canary.errors;
    }
    const since = analysisWindowStart(release, now, engine.analysis!);
    const earlier = samples.filter(s => s.at > since);
    const judgeStarted = performance.now();
    // The engine measures the sample (not while the canary warms up) and applies the analysis limits.
    const result = handleReleaseEvent(release, { type: 'tick', sample, earlier }, now, engine);
    judgeTimings?.push(performance.now() - judgeStarted);
    samples.push({ at: now.toISOString(), stepIndex: release.currentStep, canaryWeight: release.canaryWeight, canary: sample.canary, baseline: sample.baseline });
    const weightBefore = release.canaryWeight;
    release = result.release;
    if (release.state === 'rolling_back') {
      decidedAt = t;
      // The driver sets weight 0 in the same tick as the decision (the fast path); it lands after the
      // router's latency, and the canary's requests meanwhile (pro rata of the next second) are exposed.
      const latency = routerLatencyMs();
      if (faultActive && latency > 0) {
        const next = fleet.simulate(context, { from: now, to: new Date(t + 1000) }, weightBefore);
        exposedRequests += Math.round((next.canary.requests * latency) / 1000);
        exposedErrors += Math.round((next.canary.errors * latency) / 1000);
      }
      rollbackCompleteAt = t + latency;
      release = handleReleaseEvent(release, { type: 'weightApplied', weight: 0 }, new Date(rollbackCompleteAt), engine).release;
    }
  }
  const sinceFault = (at: number | undefined) =>
    at !== undefined && faultStart !== undefined ? (at - faultStart) / 1000 : undefined;
  return {
    state: release.state,
    detectionSeconds: sinceFault(decidedAt),
    rollbackCompleteSeconds: sinceFault(rollbackCompleteAt),
    rolledBackHealthy: release.state === 'rolled_back' && (faultStart === undefined || (decidedAt ?? 0) < faultStart),
    exposedRequests,
    exposedErrors,
    seconds: (t - start) / 1000,
  };
}

/**
 * Runs a scenario `runs` times, seeds `seed`, `seed + 1`, ..., and summarises the outcomes. With
 * `judges` (read from app-config), `default` is the configured judge and named analyses are known too.
 */
export function runScenario(
  scenario: Scenario,
  options: { runs: number; seed: number; judge?: string; judges?: JudgeCatalog },
): ScenarioResult {
  const judgeName = options.judge ?? scenario.judge;
  const { judges } = options;
  let makeJudge = JUDGES[judgeName];
  if (judges && judgeName === 'default') makeJudge = () => ({ judge: judges.defaultJudge, limits: judges.limitsFor(undefined) });
  else if (judges?.names().includes(judgeName)) makeJudge = () => ({ judge: judges.judgeFor(judgeName), limits: judges.limitsFor(judgeName) });
  if (!makeJudge) {
    const known = [...Object.keys(JUDGES), ...(judges?.names() ?? [])];
    throw new Error(`Unknown judge '${judgeName}'; use one of ${known.join(', ')}${judges ? '' : ' (or a named analysis, with --config)'}`);
  }
  const outcomes = Array.from({ length: options.runs }, (_, i) => runOnce(scenario, makeJudge(), options.seed + i));
  const faulty = outcomes.filter(o => o.detectionSeconds !== undefined);
  return {
    scenario: scenario.name,
    judge: judgeName,
    tickSeconds: scenario.tickSeconds,
    routerLatencyMs: scenario.router.latencyMs,
    runs: options.runs,
    seed: options.seed,
    rolledBack: outcomes.filter(o => o.state === 'rolled_back').length,
    promoted: outcomes.filter(o => o.state === 'succeeded').length,
    paused: outcomes.filter(o => o.state === 'paused').length,
    falseRollbackRate: outcomes.filter(o => o.rolledBackHealthy).length / options.runs,
    detectionSeconds: distribution(faulty.map(o => o.detectionSeconds!)),
    rollbackCompleteSeconds: distribution(faulty.map(o => o.rollbackCompleteSeconds!)),
    exposedRequests: distribution(outcomes.map(o => o.exposedRequests)),
    exposedErrors: distribution(outcomes.map(o => o.exposedErrors)),
  };
}
