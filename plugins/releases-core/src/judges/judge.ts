import { TrafficStats, Verdict } from '@release-pilot/plugin-releases-common';

/** Canary and baseline statistics over some interval. */
export interface CanaryBaseline {
  canary: TrafficStats;
  baseline: TrafficStats;
}

/** What the judge looks at on a tick. */
export interface JudgeInput {
  /** This tick's sample alone. */
  sample: CanaryBaseline;
  /** The current step's analysis window, this tick included. */
  window: CanaryBaseline;
  /** The state this judge returned on the previous tick of the release; undefined on the first. */
  state?: unknown;
  /** Which step of how many the release is on. */
  step: { index: number; count: number };
  now: Date;
}

/** A verdict and the state to hand back on the next tick. */
export interface JudgeResult {
  verdict: Verdict;
  state?: unknown;
}

/**
 * Turns canary and baseline statistics into a verdict with evidence. Pure: no I/O and no clock of
 * its own; whatever it must remember across ticks travels in `state`, which the driver persists.
 */
export interface Judge {
  judge(input: JudgeInput): JudgeResult;
}
