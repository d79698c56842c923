import {
  ExperimentState,
  faultFigures,
  quantileOf,
  ExperimentVerdict,
  GatePoint,
  GatePointSide,
  GateRecovery,
  GateSideRecord,
  GateTick,
  PhaseFigures,
  ResilienceExperiment,
  ResilienceGatePlan,
  SteadyLevel,
} from '@release-pilot/plugin-releases-common';
import { emptyRateTest, evaluateRateTest, rateRatioGrid, updateRateTest } from '../judges/sequential/rateRatioTest';

/**
 * One chaos experiment of the resilience gate, judged canary against stable: both sides take the
 * same synthetic load and the same fault at the same time, and three parts of the steady-state
 * hypothesis are compared.
 *
 * - **Errors under the fault**: the anytime-valid rate-ratio test of the sequential judge, canary
 *   over stable, against the null "at most `errorRatio` times the stable side's rate". Checked every
 *   tick; a rejection fails the experiment at once.
 * - **Latency under the fault**: the stable side's latency quantile over the first
 *   `calibrationSeconds` of the fault, times (1 + `latency`), is the slow threshold; from then on the
 *   same test compares the shares of slow requests against "at most `slowRatio` times". The
 *   threshold comes from data the test never sees, so the guarantee holds.
 * - **Recovery**: after the fault, the seconds until each side is back at its own steady level (its
 *   error rate and quantile before the fault) for two ticks in a row. The canary fails if it is not
 *   back within `recoverySeconds`, or is back more than the margin later than the stable side.
 *
 * Each test gets α / (2 × experiments), so the gate blocks a version that is as resilient as the
 * stable one with probability at most α. Too little load, or a side that answered nothing, makes the
 * experiment inconclusive: it never passes.
 */

/** At most this many latencies are kept per side and phase (for quantiles and evidence). */
const KEEP_LATENCIES = 2000;
/** A side is back at its level when its tick's error rate is within this of its steady rate... */
const RECOVERED_ERROR_SLACK = 0.02;
/** ...and its quantile within this factor (plus 5 ms) of its steady quantile, for two ticks in a row. */
const RECOVERED_LATENCY_FACTOR = 1.5;
const RECOVERED_TICKS = 2;
/** Fewest requests per side in the steady state to measure a level. */
const MIN_STEADY_REQUESTS = 20;

type SideRecord = GateSideRecord;
type Recovery = GateRecovery;

const emptySide = (): SideRecord => ({ requests: 0, errors: 0, latenciesMs: [] });

export function newExperimentState(experiment: ResilienceExperiment): ExperimentState {
  return {
    experiment,
    phase: 'steady',
    phaseSeconds: 0,
    steady: { canary: emptySide(), stable: emptySide() },
    fault: { canary: emptySide(), stable: emptySide() },
    calibration: [],
    errorTest: emptyRateTest([]),
    slowTest: emptyRateTest([]),
    recovery: { canary: { streak: 0 }, stable: { streak: 0 } },
    evidence: [],
  };
}

/** Latencies are kept to 0.1 ms: the persisted state stays small, the quantiles do not change. */
const tenth = (ms: number) => Math.round(ms * 10) / 10;

function record(side: SideRecord, tick: GateTick): SideRecord {
  const room = KEEP_LATENCIES - side.latenciesMs.length;
  return {
    requests: side.requests + tick.requests,
    errors: side.errors + tick.errors,
    latenciesMs: room > 0 ? [...side.latenciesMs, ...tick.latenciesMs.slice(0, room).map(tenth)] : side.latenciesMs,
  };
}

/** The per-test α of a gate: α split over two tests per experiment. */
export function testAlpha(gate: ResilienceGatePlan): number {
  return gate.alpha / (2 * Math.max(1, gate.experiments.length));
}

const percent = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)} %`;
const ms = (x: number) => `${Math.round(x).toLocaleString('en-US')} ms`;
const pLabel = (q: number) => `p${Math.round(q * 100)}`;

function decided(state: ExperimentState, verdict: ExperimentVerdict, evidence: string[]): ExperimentState {
  return { ...state, phase: 'done', verdict, evidence: [...state.evidence, ...evidence] };
}

/** Folds one tick of both sides into the experiment: its phase moves on by `seconds`, and may end with a verdict. */
export function updateExperiment(
  state: ExperimentState,
  tick: { canary: GateTick; stable: GateTick; seconds: number },
  gate: ResilienceGatePlan,
): ExperimentState {
  if (state.phase === 'done') return state;
  const elapsed = state.phaseSeconds + tick.seconds;
  let next: ExperimentState;
  switch (state.phase) {
    case 'steady':
      next = steadyTick(state, tick, elapsed, gate);
      break;
    case 'fault':
      next = faultTick(state, tick, elapsed, gate);
      break;
    default:
      next = recoveryTick(state, tick, elapsed, gate);
  }
  return { ...next, series: withPoint(state.series ?? [], state.phase, tick, gate.quantile) };
}

/** Points kept per experiment; past it every other older point goes (an hour at a 1 s tick is thinned, not cut). */
export const MAX_GATE_POINTS = 600;

function withPoint(series: GatePoint[], phase: GatePoint['phase'], tick: { canary: GateTick; stable: GateTick; seconds: number }, quantile: number): GatePoint[] {
  const side = (t: GateTick): GatePointSide => ({
    ...(t.requests > 0 && { errorRate: Math.round((t.errors / t.requests) * 10_000) / 10_000 }),
    ...(t.latenciesMs.length > 0 && { latencyMs: tenth(quantileOf(t.latenciesMs, quantile)) }),
  });
  const t = Math.round(((series.at(-1)?.t ?? 0) + tick.seconds) * 10) / 10;
  const next = [...series, { t, phase, canary: side(tick.canary), stable: side(tick.stable) }];
  return next.length > MAX_GATE_POINTS ? next.filter((_, i) => i % 2 === 1 || i === next.length - 1) : next;
}

function steadyTick(state: ExperimentState, tick: { canary: GateTick; stable: GateTick }, elapsed: number, gate: ResilienceGatePlan): ExperimentState {
  const steady = { canary: record(state.steady.canary, tick.canary), stable: record(state.steady.stable, tick.stable) };
  if (elapsed < gate.steadySeconds) return { ...state, steady, phaseSeconds: elapsed };
  const starved = (['canary', 'stable'] as const).filter(side => steady[side].requests < MIN_STEADY_REQUESTS);
  if (starved.length > 0) {
    return decided({ ...state, steady }, 'inconclusive', [
      `No load: ${starved.join(' and ')} answered fewer than ${MIN_STEADY_REQUESTS} requests in ${gate.steadySeconds} s of steady state`,
    ]);
  }
  const level = (side: SideRecord): SteadyLevel => ({ errorRate: side.errors / side.requests, quantileMs: quantileOf(side.latenciesMs, gate.quantile) });
  const grid = rateRatioGrid(1);
  return {
    ...state,
    steady: { canary: emptySide(), stable: emptySide() },
    levels: { canary: level(steady.canary), stable: level(steady.stable) },
    phase: 'fault',
    phaseSeconds: 0,
    errorTest: emptyRateTest(grid),
    slowTest: emptyRateTest(grid),
  };
}

/** The grid index of a null ratio (the grid holds 1 and steps of 10 % around it). */
function nullIndex(grid: number[], ratio: number): number {
  const index = grid.findIndex(g => g >= ratio - 1e-9);
  return index < 0 ? grid.length - 1 : index;
}

function faultTick(state: ExperimentState, tick: { canary: GateTick; stable: GateTick }, elapsed: number, gate: ResilienceGatePlan): ExperimentState {
  const grid = rateRatioGrid(1);
  const alpha = testAlpha(gate);
  const fault = { canary: record(state.fault.canary, tick.canary), stable: record(state.fault.stable, tick.stable) };
  const errorTest = updateRateTest(grid, state.errorTest, {
    canaryEvents: tick.canary.errors,
    canaryRequests: tick.canary.requests,
    baselineEvents: tick.stable.errors,
    baselineRequests: tick.stable.requests,
  });
  let { calibration, slowThresholdMs, slowTest } = state;
  if (slowThresholdMs === undefined) {
    calibration = [...calibration, ...tick.stable.latenciesMs].slice(0, KEEP_LATENCIES);
    if (elapsed >= gate.calibrationSeconds && calibration.length > 0) {
      const stableQuantile = quantileOf(calibration, gate.quantile);
      // Slower by the relative margin and by the absolute one: a few ms on fast answers (a fresh process, a GC pause) is noise, not fragility.
      slowThresholdMs = Math.max(stableQuantile * (1 + gate.margins.latency), stableQuantile + (gate.margins.latencyMs ?? 0));
      // Its job is done: the persisted state need not carry it any more.
      calibration = [];
    }
  } else {
    const slow = (t: GateTick) => t.latenciesMs.filter(l => l > slowThresholdMs!).length;
    slowTest = updateRateTest(grid, slowTest, {
      canaryEvents: slow(tick.canary),
      canaryRequests: tick.canary.latenciesMs.length,
      baselineEvents: slow(tick.stable),
      baselineRequests: tick.stable.latenciesMs.length,
    });
  }
  const next: ExperimentState = { ...state, fault, errorTest, calibration, slowThresholdMs, slowTest, phaseSeconds: elapsed };
  const { experiment } = state;
  // Sorting for the quantiles costs: only once something is decided.
  const measured = () => faultFigures(next, gate.quantile);
  const rate = (f: PhaseFigures) => (f.requests > 0 ? f.errors / f.requests : 0);
  const errors = evaluateRateTest(grid, errorTest, nullIndex(grid, gate.margins.errorRatio), alpha);
  if (errors.rejected) {
    const figures = measured();
    return decided(next, 'failed', [
      `Errors under ${experiment.name}: canary ${percent(rate(figures.canary))} vs stable ${percent(rate(figures.stable))}, ` +
        `at least ${errors.lowerBound.toFixed(2)}x the stable side's rate with ${percent(1 - alpha)} confidence (allowed: ${gate.margins.errorRatio}x)`,
    ]);
  }
  if (slowThresholdMs !== undefined) {
    const slow = evaluateRateTest(grid, slowTest, nullIndex(grid, gate.margins.slowRatio), alpha);
    if (slow.rejected) {
      const figures = measured();
      return decided(next, 'failed', [
        `Latency under ${experiment.name}: ${pLabel(gate.quantile)} canary ${ms(figures.canary.quantileMs ?? NaN)} vs stable ${ms(figures.stable.quantileMs ?? NaN)}; ` +
          `requests slower than ${ms(slowThresholdMs)} at least ${slow.lowerBound.toFixed(2)}x the stable side's share with ${percent(1 - alpha)} confidence (allowed: ${gate.margins.slowRatio}x)`,
      ]);
    }
  }
  if (elapsed < experiment.durationSeconds) return next;
  const starved = (['canary', 'stable'] as const).filter(side => fault[side].requests < gate.minRequests);
  if (starved.length > 0) {
    return decided(next, 'inconclusive', [`Too little load under ${experiment.name}: ${starved.join(' and ')} answered fewer than ${gate.minRequests} requests`]);
  }
  const figures = measured();
  const slo = gate.slo ?? {};
  const breaches = [
    ...(slo.errorRate !== undefined && rate(figures.canary) > slo.errorRate ? [`error rate ${percent(rate(figures.canary))} above the SLO's ${percent(slo.errorRate)}`] : []),
    ...(slo.latencyMs !== undefined && (figures.canary.quantileMs ?? 0) > slo.latencyMs
      ? [`${pLabel(gate.quantile)} ${ms(figures.canary.quantileMs!)} above the SLO's ${ms(slo.latencyMs)}`]
      : []),
  ];
  if (breaches.length > 0) return decided(next, 'failed', [`Under ${experiment.name} the canary broke its SLO: ${breaches.join('; ')}`]);
  return {
    ...next,
    phase: 'recovery',
    phaseSeconds: 0,
    faultEnded: true,
    evidence: [
      ...next.evidence,
      `Under ${experiment.name}: errors canary ${percent(rate(figures.canary))} vs stable ${percent(rate(figures.stable))}, ` +
        `${pLabel(gate.quantile)} canary ${ms(figures.canary.quantileMs ?? NaN)} vs stable ${ms(figures.stable.quantileMs ?? NaN)}: no worse within the margins`,
    ],
  };
}

function atLevel(tick: GateTick, level: SteadyLevel, quantile: number): boolean {
  if (tick.requests === 0 || tick.latenciesMs.length === 0) return false;
  return tick.errors / tick.requests <= level.errorRate + RECOVERED_ERROR_SLACK && quantileOf(tick.latenciesMs, quantile) <= level.quantileMs * RECOVERED_LATENCY_FACTOR + 5;
}

function recovered(recovery: Recovery, good: boolean, startedAt: number): Recovery {
  if (recovery.seconds !== undefined) return recovery;
  if (!good) return { streak: 0 };
  const streak = recovery.streak + 1;
  const since = recovery.streakStartedAt ?? startedAt;
  return streak >= RECOVERED_TICKS ? { streak, streakStartedAt: since, seconds: since } : { streak, streakStartedAt: since };
}

function recoveryTick(state: ExperimentState, tick: { canary: GateTick; stable: GateTick; seconds: number }, elapsed: number, gate: ResilienceGatePlan): ExperimentState {
  const { experiment } = state;
  const levels = state.levels!;
  const startedAt = state.phaseSeconds;
  const recovery = {
    canary: recovered(state.recovery.canary, atLevel(tick.canary, levels.canary, gate.quantile), startedAt),
    stable: recovered(state.recovery.stable, atLevel(tick.stable, levels.stable, gate.quantile), startedAt),
  };
  const next: ExperimentState = { ...state, recovery, phaseSeconds: elapsed };
  const canary = recovery.canary.seconds;
  const stable = recovery.stable.seconds;
  const limit = experiment.recoverySeconds;
  if (canary === undefined) {
    if (elapsed < limit) return next;
    return decided(next, 'failed', [
      `After ${experiment.name} the canary was not back at its steady level within ${limit} s${stable !== undefined ? ` (stable: ${stable.toFixed(0)} s)` : ''}`,
    ]);
  }
  if (stable === undefined && elapsed < limit) return next;
  if (stable !== undefined && canary > stable + gate.margins.recoverySeconds) {
    return decided(next, 'failed', [
      `After ${experiment.name} the canary took ${canary.toFixed(0)} s to recover, the stable side ${stable.toFixed(0)} s (allowed: ${gate.margins.recoverySeconds} s more)`,
    ]);
  }
  return decided(next, 'passed', [
    `Recovered from ${experiment.name}: canary in ${canary.toFixed(0)} s, stable ${stable === undefined ? `not within ${limit} s` : `in ${stable.toFixed(0)} s`}`,
  ]);
}
