import { GateState, GateTick, ResilienceExperiment, ResilienceGatePlan } from '@release-pilot/plugin-releases-common';
import { newExperimentState, updateExperiment } from './experimentJudge';

/** A gate's defaults: margins, the p95, 10 s of steady state, 5 s of calibration, α 1 %. */
export const DEFAULT_GATE_OPTIONS: Omit<ResilienceGatePlan, 'experiments'> = {
  margins: { errorRatio: 1.5, latency: 0.2, latencyMs: 50, slowRatio: 1.5, recoverySeconds: 10 },
  quantile: 0.95,
  steadySeconds: 10,
  calibrationSeconds: 5,
  minRequests: 100,
  alpha: 0.01,
};

export function newGateState(experiments: ResilienceExperiment[]): GateState {
  if (experiments.length === 0) throw new Error('A resilience gate needs at least one experiment');
  return { experiments: experiments.map(newExperimentState), index: 0 };
}

/**
 * Folds one tick of both sides into the running experiment. The gate fails or is inconclusive with
 * the first experiment that is, and passes once every experiment passed.
 */
export function updateGate(state: GateState, tick: { canary: GateTick; stable: GateTick; seconds: number }, plan: ResilienceGatePlan): GateState {
  if (state.verdict) return state;
  const current = updateExperiment(state.experiments[state.index], tick, plan);
  const experiments = state.experiments.map((e, i) => (i === state.index ? current : e));
  if (current.verdict === 'failed' || current.verdict === 'inconclusive') return { experiments, index: state.index, verdict: current.verdict };
  if (current.verdict === 'passed') {
    const last = state.index === experiments.length - 1;
    return last ? { experiments, index: state.index, verdict: 'passed' } : { experiments, index: state.index + 1 };
  }
  return { experiments, index: state.index };
}

/** The fault that must be on now: the running experiment's, while it is in its fault phase. */
export function activeFault(state: GateState): ResilienceExperiment | undefined {
  const current = state.experiments[state.index];
  return !state.verdict && current.phase === 'fault' ? current.experiment : undefined;
}

/** The running experiment's fault and the seconds since it ended, during its recovery. */
export function endedFault(state: GateState): { experiment: ResilienceExperiment; seconds: number } | undefined {
  const current = state.experiments[state.index];
  return current.phase === 'recovery' ? { experiment: current.experiment, seconds: current.phaseSeconds } : undefined;
}
