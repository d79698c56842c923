import { TrafficStats, Verdict } from '@release-pilot/plugin-releases-common';

/** What the judge looks at: canary and baseline over the analysis window of the current step. */
export interface JudgeInput {
  canary: TrafficStats;
  baseline: TrafficStats;
  now: Date;
}

/** Turns canary and baseline statistics into a verdict with evidence. Pure; no I/O, no clock. */
export interface Judge {
  judge(input: JudgeInput): Verdict;
}
