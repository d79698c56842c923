import {
  mergeTrafficStats,
  Release,
  StoredSample,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline, Judge, JudgeResult } from './judge';

/**
 * The start of the analysis window of a release at `now`: the later of the current step's start and
 * `now - windowSeconds`, so that a window never mixes canary weights.
 */
export function analysisWindowStart(release: Release, now: Date, windowSeconds: number): string {
  const windowStart = new Date(now.getTime() - windowSeconds * 1000).toISOString();
  const stepStart = release.stepStartedAt ?? release.createdAt;
  return windowStart > stepStart ? windowStart : stepStart;
}

/**
 * One tick of analysis: the judge sees this tick's sample, the current step's window (earlier
 * samples of the step since `analysisWindowStart`, plus this one) and its own state from the last tick.
 */
export function judgeTick(
  judge: Judge,
  release: Release,
  earlier: StoredSample[],
  sample: CanaryBaseline,
  now: Date,
): JudgeResult {
  const window = earlier.filter(s => s.stepIndex === release.currentStep);
  return judge.judge({
    sample,
    window: {
      canary: mergeTrafficStats([...window.map(s => s.canary), sample.canary]),
      baseline: mergeTrafficStats([...window.map(s => s.baseline), sample.baseline]),
    },
    state: release.judgeState,
    step: { index: release.currentStep, count: release.plan.steps.length },
    now,
  });
}
