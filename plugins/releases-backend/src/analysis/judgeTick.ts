import {
  mergeTrafficStats,
  Release,
  StoredSample,
  Verdict,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline, Judge, JudgeResult } from './judge';

/**
 * The start of the analysis window of a release at `now`: the latest of the current step's start,
 * the end of the canary's warm-up and `now - windowSeconds`, so that a window never mixes canary
 * weights nor holds a cold canary's first requests.
 */
export function analysisWindowStart(release: Release, now: Date, windowSeconds: number): string {
  const windowStart = new Date(now.getTime() - windowSeconds * 1000).toISOString();
  const starts = [windowStart, release.stepStartedAt ?? release.createdAt, release.warmUpUntil ?? ''];
  return starts.reduce((latest, start) => (start > latest ? start : latest));
}

/** The verdict of a tick in the canary's warm-up: its metrics are stored and charted, not judged. */
export function warmUpVerdict(release: Release, now: Date): Verdict {
  const left = Math.ceil((Date.parse(release.warmUpUntil!) - now.getTime()) / 1000);
  return {
    at: now.toISOString(),
    kind: 'canary',
    outcome: 'inconclusive',
    summary: `Warming up: the canary's first ${release.plan.warmUpSeconds} s are not judged (${left} s left)`,
    evidence: [],
  };
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
