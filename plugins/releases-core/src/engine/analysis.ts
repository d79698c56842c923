import {
  HistoryBucket,
  mergeTrafficStats,
  Release,
  ReleaseMeasurements,
  StoredSample,
  Verdict,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline, Judge } from '../judges/judge';
import { SequentialJudge } from '../judges/sequential/SequentialJudge';
import { WatchJudge } from '../judges/watch/WatchJudge';

/**
 * How many measurements of each kind an analysis tolerates, as Argo Rollouts' AnalysisTemplates
 * say it: applied by the engine to every judge alike (sequential, fixed, threshold, Kayenta, watch).
 */
export interface AnalysisLimits {
  /** Failed measurements tolerated over the steps (and, counted afresh, over the watch); one more rolls back. */
  failureLimit: number;
  /** Inconclusive measurements tolerated; one more pauses a running release (alerts during the watch). None: no limit. */
  inconclusiveLimit?: number;
  /** Provider errors in a row tolerated; one more rolls back. None: the target's or the engine's `maxConsecutiveProviderErrors`. */
  consecutiveErrorLimit?: number;
}

export const DEFAULT_ANALYSIS_LIMITS: AnalysisLimits = { failureLimit: 0 };

/** What the engine needs of the post-release watch (a `WatchJudge`). */
export type WatchAnalysis = Pick<WatchJudge, 'judge' | 'needsHistory' | 'options' | 'usualLevel' | 'levelOf' | 'atLevel'>;

/** What judges a release: its canary judge and limits, the post-release watch, and the canary's analysis window. */
export interface ReleaseAnalysis {
  judge: Judge;
  limits: AnalysisLimits;
  watch: WatchAnalysis;
  /** The judge looks at the samples of the current step within this many seconds. */
  windowSeconds: number;
}

export const DEFAULT_ANALYSIS: ReleaseAnalysis = {
  judge: new SequentialJudge(),
  limits: DEFAULT_ANALYSIS_LIMITS,
  watch: new WatchJudge(),
  windowSeconds: 30,
};

/** What one tick brings the engine: the new sample, the samples stored since `analysisWindowStart`, and (first watch tick) the history. */
export interface TickInput {
  sample: CanaryBaseline;
  earlier: StoredSample[];
  history?: HistoryBucket[];
}

/**
 * Whether a tick at `now` is in the release's warm-up: its sample, which ends at `now`, holds the
 * canary's first requests, so it is stored and charted, but not judged, and no step advances.
 * The one place that decides it.
 */
export function isWarmingUp(release: Release, now: Date): boolean {
  return release.state !== 'watching' && release.warmUpUntil !== undefined && now.getTime() <= Date.parse(release.warmUpUntil);
}

/**
 * Since when the samples of a tick's analysis window reach: for the canary judge the latest of the
 * step's start, the end of the warm-up and `now - windowSeconds`, so that a window never mixes canary
 * weights nor holds a cold canary's first requests; for the watch, the latest of the watch's start
 * and one history bucket ago. The driver reads the stored samples since then.
 */
export function analysisWindowStart(release: Release, now: Date, analysis: ReleaseAnalysis): string {
  if (release.state === 'watching') {
    const watchStart = Date.parse(release.watchStartedAt ?? now.toISOString());
    return new Date(Math.max(watchStart, now.getTime() - analysis.watch.options.bucketSeconds * 1000)).toISOString();
  }
  const windowStart = new Date(now.getTime() - analysis.windowSeconds * 1000).toISOString();
  const starts = [windowStart, release.stepStartedAt ?? release.createdAt, release.warmUpUntil ?? ''];
  return starts.reduce((latest, start) => (start > latest ? start : latest));
}

/** Whether the post-release watch still needs the service's history (its first tick). */
export function watchNeedsHistory(release: Release, analysis: ReleaseAnalysis): boolean {
  return release.state === 'watching' && analysis.watch.needsHistory(release.judgeState);
}

function warmUpVerdict(release: Release, now: Date): Verdict {
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
 * One tick's measurement: the canary judge over the step's window (earlier samples of the step
 * since `analysisWindowStart`, plus this one), or the watch over the whole service against its
 * history. A warming canary is not judged. Judges are pure, so this is too.
 */
export function measure(release: Release, input: TickInput, now: Date, analysis: ReleaseAnalysis): { verdict: Verdict; state: unknown; judged: boolean } {
  const since = analysisWindowStart(release, now, analysis);
  if (release.state === 'watching') {
    const watchStartedAt = new Date(release.watchStartedAt ?? now.toISOString());
    const parts = [...input.earlier.filter(s => s.at > since), input.sample];
    const { verdict, state } = analysis.watch.judge({
      window: mergeTrafficStats(parts.flatMap(s => [s.canary, s.baseline])),
      windowSeconds: (now.getTime() - Date.parse(since)) / 1000,
      history: input.history,
      state: release.judgeState,
      watch: { startedAt: watchStartedAt, seconds: release.plan.watchSeconds ?? 0 },
      now,
    });
    return { verdict, state, judged: true };
  }
  if (isWarmingUp(release, now)) return { verdict: warmUpVerdict(release, now), state: release.judgeState, judged: false };
  const window = input.earlier.filter(s => s.stepIndex === release.currentStep && s.at > since);
  const { verdict, state } = analysis.judge.judge({
    sample: input.sample,
    window: {
      canary: mergeTrafficStats([...window.map(s => s.canary), input.sample.canary]),
      baseline: mergeTrafficStats([...window.map(s => s.baseline), input.sample.baseline]),
    },
    state: release.judgeState,
    step: { index: release.currentStep, count: release.plan.steps.length },
    now,
  });
  return { verdict, state, judged: true };
}

/**
 * The stored samples `catchUpJudgeState` needs for a release whose judge state is older than its
 * latest verdict: those after `since` (the oldest window of the ticks to count again) up to and
 * including `until` (the latest verdict's tick); undefined when its state is up to date.
 */
export function judgeCatchUpRange(release: Release, analysis: ReleaseAnalysis): { since: string; until: string } | undefined {
  if (release.judgeStateAt === undefined) return undefined;
  return { since: analysisWindowStart(release, new Date(release.judgeStateAt), analysis), until: release.latestVerdict?.at ?? release.judgeStateAt };
}

/**
 * A release whose stored judge state is older than its latest verdict (`judgeStateAt`: the ticks
 * since did not write it) with the state its latest tick left: the judge counts the stored samples
 * of those ticks again, in order, each over the window it had then. Judges are pure, so the state
 * is the one the replica that judged those ticks held. `stored`: the samples of `judgeCatchUpRange`.
 */
export function catchUpJudgeState(release: Release, stored: StoredSample[], analysis: ReleaseAnalysis): Release {
  const { judgeStateAt, ...rest } = release;
  if (judgeStateAt === undefined) return release;
  let state = release.judgeState;
  // Only the canary judge's ticks leave a state unwritten (the watch's are written every tick).
  if (release.state === 'running' || release.state === 'paused') {
    const until = release.latestVerdict?.at ?? judgeStateAt;
    for (const sample of stored) {
      if (sample.at <= judgeStateAt || sample.at > until || sample.stepIndex !== release.currentStep) continue;
      const earlier = stored.filter(s => s.at < sample.at);
      state = measure({ ...rest, judgeState: state }, { sample, earlier }, new Date(sample.at), analysis).state;
    }
  }
  return { ...rest, judgeState: state };
}

/** What the limits make of a measurement: nothing more, or the decision the judge's outcome becomes. */
export type LimitDecision = 'rollback' | 'tolerated' | 'inconclusiveLimit' | undefined;

/**
 * Counts a measurement against the analysis limits. A failed measurement within `failureLimit` is
 * tolerated (the step holds); one past it rolls back. An inconclusive one past `inconclusiveLimit`
 * asks a person. The counts run over the steps, and afresh over the watch.
 */
export function countMeasurement(
  counts: ReleaseMeasurements | undefined,
  verdict: Verdict,
  limits: AnalysisLimits,
): { counts: ReleaseMeasurements; decision: LimitDecision; note?: string } {
  const next = { failed: counts?.failed ?? 0, inconclusive: counts?.inconclusive ?? 0 };
  if (verdict.outcome === 'fail') {
    next.failed++;
    if (next.failed > limits.failureLimit) {
      const note = limits.failureLimit > 0 ? ` (failed measurement ${next.failed}, limit ${limits.failureLimit})` : '';
      return { counts: next, decision: 'rollback', note };
    }
    return { counts: next, decision: 'tolerated', note: `failed measurement ${next.failed} of ${limits.failureLimit} tolerated` };
  }
  if (verdict.outcome === 'inconclusive') {
    next.inconclusive++;
    if (limits.inconclusiveLimit !== undefined && next.inconclusive > limits.inconclusiveLimit) {
      return { counts: next, decision: 'inconclusiveLimit', note: `${next.inconclusive} inconclusive measurements, limit ${limits.inconclusiveLimit}` };
    }
  }
  return { counts: next, decision: undefined };
}
