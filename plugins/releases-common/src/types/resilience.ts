/**
 * The resilience gate: chaos experiments run on the new version (the canary, at 0 %) and on a
 * stable instance at once, under the same synthetic load and the same fault, before any production
 * traffic. The gate passes when the canary is no less resilient than the stable side.
 */

/** What an experiment does to both instances. */
export type FaultKind =
  /** The service's dependency answers `intensity` ms later (a fault-injecting proxy). */
  | 'dependencyLatency'
  /** A share `intensity` (0-1) of the dependency's answers are errors. */
  | 'dependencyErrors'
  /** The dependency cannot be reached at all (connections rejected). */
  | 'dependencyUnavailable'
  /** The instance is killed and restarted. */
  | 'instanceKill'
  /** The instance's process is stopped (SIGSTOP) for the fault's duration, then continued. */
  | 'instancePause'
  /** `intensity` % CPU load on the instance's cores (stress-ng). */
  | 'cpuPressure'
  /** `intensity` % of the host's memory taken (stress-ng --vm). */
  | 'memoryPressure'
  /** A share `intensity` (0-1) of the instance's packets is dropped. */
  | 'packetLoss';

export const FAULT_KINDS = [
  'dependencyLatency',
  'dependencyErrors',
  'dependencyUnavailable',
  'instanceKill',
  'instancePause',
  'cpuPressure',
  'memoryPressure',
  'packetLoss',
] as const satisfies readonly FaultKind[];

/** One named fault with a duration and an intensity. */
export interface ResilienceExperiment {
  name: string;
  fault: FaultKind;
  /** Seconds the fault lasts. */
  durationSeconds: number;
  /** The fault's strength: added milliseconds, a share (0-1) or a CPU load in %, by kind. */
  intensity?: number;
  /** Seconds after the fault ends within which the canary must be back at its steady state. */
  recoverySeconds: number;
}

/** How much less resilient than the stable side the canary may be before the gate fails it. */
export interface ResilienceMargins {
  /** The canary's error rate during the fault may be up to this many times the stable side's. */
  errorRatio: number;
  /**
   * A request counts as slow past the stable side's latency quantile under the fault times (1 +
   * `latency`); the canary may have up to `slowRatio` times the stable side's share of slow requests.
   */
  latency: number;
  /** ...and past it plus this many ms (default 50): a few ms more on fast answers is noise, not fragility. */
  latencyMs?: number;
  slowRatio: number;
  /** Seconds the canary may take to recover beyond the stable side's time. */
  recoverySeconds: number;
}

/** A plan's resilience gate: what runs before the first step, and how it is judged. */
export interface ResilienceGatePlan {
  experiments: ResilienceExperiment[];
  margins: ResilienceMargins;
  /** The latency quantile compared under the fault (0.95 by default). */
  quantile: number;
  /** Seconds of steady state before each fault: each side's normal level, for the recovery. */
  steadySeconds: number;
  /** Seconds at the start of each fault in which the stable side's latency quantile under it is measured. */
  calibrationSeconds: number;
  /** Requests each side must answer during a fault; fewer make the experiment inconclusive. */
  minRequests: number;
  /** The share of healthy versions the gate may block, split evenly over its experiments' tests. */
  alpha: number;
  /** Absolute bounds the canary must keep during each fault, whatever the stable side does. */
  slo?: { errorRate?: number; latencyMs?: number };
}

/** What one side answered in one tick of an experiment. */
export interface GateTick {
  requests: number;
  errors: number;
  /** Each answered request's latency, in milliseconds. */
  latenciesMs: number[];
}

/** One side's normal level before the fault. */
export interface SteadyLevel {
  errorRate: number;
  quantileMs: number;
}

export type ExperimentPhase = 'steady' | 'fault' | 'recovery' | 'done';
export type ExperimentVerdict = 'passed' | 'failed' | 'inconclusive';

/** Per side, what an experiment measured in one phase: counts and the chosen latency quantile. */
export interface PhaseFigures {
  requests: number;
  errors: number;
  quantileMs?: number;
}

/** One side's answers in one phase of an experiment (latencies capped at a few thousand). */
export interface GateSideRecord {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

/** A side's way back after the fault. */
export interface GateRecovery {
  /** Seconds after the fault ended until the side was back (the start of its good ticks). */
  seconds?: number;
  streak: number;
  /** When the current streak of good ticks began. */
  streakStartedAt?: number;
}

/** The running state of the anytime-valid rate-ratio test (see the core's `rateRatioTest`). */
export interface RateTestSnapshot {
  logLikelihood: number[];
  totals: { canaryEvents: number; canaryRequests: number; baselineEvents: number; baselineRequests: number };
}

/** One side in one tick of an experiment, for the charts: its error rate and latency quantile. */
export interface GatePointSide {
  /** Errors over requests in the tick (absent without requests). */
  errorRate?: number;
  /** The gate's latency quantile over the tick's answers, in ms (absent without answers). */
  latencyMs?: number;
}

/** One tick of an experiment: seconds since the experiment began, its phase, and both sides. */
export interface GatePoint {
  t: number;
  phase: Exclude<ExperimentPhase, 'done'>;
  canary: GatePointSide;
  stable: GatePointSide;
}

/** An experiment's running state; persisted with the release. */
export interface ExperimentState {
  experiment: ResilienceExperiment;
  phase: ExperimentPhase;
  /** Seconds the current phase has run. */
  phaseSeconds: number;
  steady: { canary: GateSideRecord; stable: GateSideRecord };
  levels?: { canary: SteadyLevel; stable: SteadyLevel };
  fault: { canary: GateSideRecord; stable: GateSideRecord };
  /** The stable side's latencies in the fault's first seconds (the slow threshold's source). */
  calibration: number[];
  slowThresholdMs?: number;
  errorTest: RateTestSnapshot;
  slowTest: RateTestSnapshot;
  recovery: { canary: GateRecovery; stable: GateRecovery };
  /** The fault ran its whole duration and the recovery was measured (not decided during the fault). */
  faultEnded?: boolean;
  verdict?: ExperimentVerdict;
  /** Per tick, both sides through the steady state, the fault and the recovery (the charts; capped, thinned when long). */
  series?: GatePoint[];
  /** Why, in words: one line per part that decided. */
  evidence: string[];
}

/** The gate's running state: its experiments, one after the other, and the verdict once there is one. */
export interface GateState {
  experiments: ExperimentState[];
  /** The experiment running now (or the last one). */
  index: number;
  verdict?: ExperimentVerdict;
  /** When the gate began (the canary deployed at 0 %). */
  startedAt?: string;
}

const PHASE_WORDS: Record<ExperimentPhase, string> = { steady: 'steady state', fault: 'fault on', recovery: 'recovering', done: 'done' };

/** Where a release's resilience gate stands, in words: "experiment 1 of 3, dependency +200 ms: fault on (12 of 30 s)". */
export function describeGate(gate: GateState): string {
  const current = gate.experiments[gate.index];
  const of = current.phase === 'fault' ? ` (${Math.floor(current.phaseSeconds)} of ${current.experiment.durationSeconds} s)` : '';
  return `experiment ${gate.index + 1} of ${gate.experiments.length}, ${current.experiment.name}: ${PHASE_WORDS[current.phase]}${of}`;
}

/** The q-quantile of `values` (nearest rank); NaN without values. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** What the experiment measured per side in its fault phase, for the UI and the evidence. */
export function faultFigures(state: ExperimentState, quantile: number): { canary: PhaseFigures; stable: PhaseFigures } {
  const figures = (side: GateSideRecord): PhaseFigures => ({
    requests: side.requests,
    errors: side.errors,
    ...(side.latenciesMs.length > 0 && { quantileMs: quantileOf(side.latenciesMs, quantile) }),
  });
  return { canary: figures(state.fault.canary), stable: figures(state.fault.stable) };
}

