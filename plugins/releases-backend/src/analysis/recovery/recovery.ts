import {
  errorRate,
  histogramQuantile,
  mergeTrafficStats,
  StoredSample,
  TrafficStats,
} from '@release-pilot/plugin-releases-common';

/** How close to its pre-release level the service must be to count as recovered. */
export interface RecoveryOptions {
  /** Requests the window needs before it says anything. */
  minRequests: number;
  /** The error rate may be this many times the pre-release one ... */
  errorRatio: number;
  /** ... or this much above it (absolute), whichever is more. */
  errorMargin: number;
  /** One-sided z of the test that the window is above that tolerance (2.33: 99 %). */
  z: number;
  /** The p95 may be this many times the pre-release one, or `latencyMarginMs` above it. */
  latencyRatio: number;
  latencyMarginMs: number;
}

export const DEFAULT_RECOVERY_OPTIONS: RecoveryOptions = {
  minRequests: 20,
  errorRatio: 2,
  errorMargin: 0.002,
  z: 2.33,
  latencyRatio: 1.25,
  latencyMarginMs: 10,
};

export interface RecoveryVerdict {
  recovered: boolean;
  summary: string;
}

const percent = (rate: number) => `${(rate * 100).toFixed(rate < 0.001 ? 3 : 2)}%`;

/**
 * The service's level before the rollback: the stable side (the baseline) over the release's
 * samples before the decision, which is the version the rollback returns to.
 */
export function preReleaseLevel(samples: StoredSample[]): TrafficStats | undefined {
  const baseline = samples.filter(s => s.canaryWeight < 100).map(s => s.baseline);
  const merged = mergeTrafficStats(baseline);
  return merged.requests > 0 ? merged : undefined;
}

/**
 * Is the whole service, since the canary's traffic went to 0 %, back at its pre-release level?
 * Recovered when its error rate is not significantly above the tolerance (the pre-release rate
 * times `errorRatio`, or plus `errorMargin`; a one-sided Poisson test at `z`) and its p95 is
 * within the latency tolerance. Without a pre-release level it cannot tell, and says so.
 */
export function judgeRecovery(
  window: TrafficStats,
  before: TrafficStats | undefined,
  options: RecoveryOptions = DEFAULT_RECOVERY_OPTIONS,
): RecoveryVerdict {
  if (!before) return { recovered: false, summary: 'no measurement of the stable side before the rollback to compare with' };
  if (window.requests < options.minRequests) {
    return { recovered: false, summary: `${window.requests} requests since the traffic was restored, waiting for ${options.minRequests}` };
  }
  // The pre-release rate with one error added, so that a clean history does not demand perfection.
  const baseRate = (before.errors + 1) / (before.requests + 1);
  const tolerated = Math.max(baseRate * options.errorRatio, baseRate + options.errorMargin);
  const expected = window.requests * tolerated;
  const errorsOk = window.errors <= expected + options.z * Math.sqrt(expected);
  const p95 = histogramQuantile(window.latency, 0.95);
  const p95Before = histogramQuantile(before.latency, 0.95);
  const latencyOk =
    Number.isNaN(p95) || Number.isNaN(p95Before) || p95 <= Math.max(p95Before * options.latencyRatio, p95Before + options.latencyMarginMs);
  const latency = Number.isNaN(p95) || Number.isNaN(p95Before) ? '' : `, p95 ${p95.toFixed(0)} ms (before ${p95Before.toFixed(0)} ms)`;
  return {
    recovered: errorsOk && latencyOk,
    summary: `error rate ${percent(errorRate(window))} over ${window.requests} requests (before the release ${percent(errorRate(before))})${latency}`,
  };
}
