import {
  errorRate,
  histogramQuantile,
  MetricEvidence,
  MetricName,
  TrafficStats,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { Judge, JudgeInput, JudgeResult } from '../judge';
import {
  emptyRateTest,
  evaluateRateTest,
  RateCounts,
  rateRatioGrid,
  RateTestResult,
  RateTestState,
  updateRateTest,
} from './rateRatioTest';

/** Settings of one judged metric. */
export interface SequentialMetricOptions {
  /** A canary this much worse (0.2 = 20 % higher rate) or less is not worth a rollback. */
  minEffect: number;
  /** A critical metric's failure rolls back; a non-critical one pauses for a person. */
  critical: boolean;
}

/** Settings of the sequential judge. */
export interface SequentialJudgeOptions {
  /** The false-rollback probability per metric, over the whole release, however often it looks. */
  alpha: number;
  /** Fewer canary requests than this in the window: inconclusive. */
  minRequests: number;
  errorRate: SequentialMetricOptions;
  latency: SequentialMetricOptions & {
    /** The latency quantile that matters (0.95 for p95). */
    quantile: number;
  };
}

/** Defaults: alpha 1 %, 20 % tolerance on error rate and on the share of requests slower than the baseline's p95. */
export const DEFAULT_SEQUENTIAL_OPTIONS: SequentialJudgeOptions = {
  alpha: 0.01,
  minRequests: 50,
  errorRate: { minEffect: 0.2, critical: true },
  latency: { quantile: 0.95, minEffect: 0.2, critical: true },
};

/** The two tests of one metric. */
interface MetricTests {
  /** Over the whole release, at alpha / 2: slow regressions gather evidence across steps. */
  release: RateTestState;
  /** Over the current step only, at alpha / (2 x steps): a fault that appears at a step is not held
   *  back by the evidence of a long healthy history. */
  step: RateTestState;
}

/** What the judge remembers across the ticks of a release. */
interface SequentialState {
  version: 2;
  stepIndex: number;
  errors: MetricTests;
  slow: MetricTests;
  /** The latency above which a request counts as slow, fixed from earlier ticks' baseline. */
  slowThresholdMs?: number;
}

/** Requests slower than `thresholdMs`, from a histogram whose bounds include it. */
function slowerThan(stats: TrafficStats, thresholdMs: number): number {
  const { boundsMs, counts } = stats.latency;
  let slow = 0;
  counts.forEach((count, i) => {
    const lowerBound = i === 0 ? 0 : boundsMs[i - 1];
    if (lowerBound >= thresholdMs) slow += count;
  });
  return slow;
}

/** The bucket bound at or above the baseline's latency quantile: a threshold the histograms count exactly. */
function bucketBoundAbove(stats: TrafficStats, quantile: number): number | undefined {
  const value = histogramQuantile(stats.latency, quantile);
  if (!Number.isFinite(value)) return undefined;
  return stats.latency.boundsMs.find(b => b >= value) ?? stats.latency.boundsMs[stats.latency.boundsMs.length - 1];
}

/** An e-value for people: whole numbers, and no astronomy. */
function formatEValue(value: number): string {
  return value >= 1e6 ? 'over 1,000,000' : Math.round(value).toLocaleString('en-US');
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

/**
 * The statistical judge: anytime-valid sequential tests of the canary's error rate and of its share
 * of slow requests (slower than the baseline's latency quantile), each against "no more than
 * minEffect worse than the baseline". Each test's chance of ever rolling back a healthy canary is at
 * most alpha across all ticks and steps of a release.
 */
export class SequentialJudge implements Judge {
  private readonly errorGrid: number[];
  private readonly slowGrid: number[];

  constructor(private readonly options: SequentialJudgeOptions = DEFAULT_SEQUENTIAL_OPTIONS) {
    this.errorGrid = rateRatioGrid(1 + options.errorRate.minEffect);
    this.slowGrid = rateRatioGrid(1 + options.latency.minEffect);
  }

  private freshState(stepIndex: number): SequentialState {
    return {
      version: 2,
      stepIndex,
      errors: { release: emptyRateTest(this.errorGrid), step: emptyRateTest(this.errorGrid) },
      slow: { release: emptyRateTest(this.slowGrid), step: emptyRateTest(this.slowGrid) },
    };
  }

  /** The state to continue: a new step starts its step tests afresh; another configuration starts over. */
  private validState(state: unknown, stepIndex: number): SequentialState {
    const s = state as SequentialState | undefined;
    if (
      s?.version !== 2 ||
      s.errors?.release?.logLikelihood?.length !== this.errorGrid.length ||
      s.slow?.release?.logLikelihood?.length !== this.slowGrid.length
    ) {
      return this.freshState(stepIndex);
    }
    if (s.stepIndex !== stepIndex) {
      return {
        ...s,
        stepIndex,
        errors: { ...s.errors, step: emptyRateTest(this.errorGrid) },
        slow: { ...s.slow, step: emptyRateTest(this.slowGrid) },
      };
    }
    return s;
  }

  /** Adds a tick to both tests of a metric. */
  private update(grid: number[], tests: MetricTests, counts: RateCounts): MetricTests {
    return { release: updateRateTest(grid, tests.release, counts), step: updateRateTest(grid, tests.step, counts) };
  }

  /** The verdict of both tests: the one with the stronger evidence relative to its own threshold. */
  private evaluate(grid: number[], tests: MetricTests, minEffect: number, stepCount: number): RateTestResult & { threshold: number } {
    const nullIndex = grid.indexOf(1 + minEffect);
    const alphaRelease = this.options.alpha / 2;
    const alphaStep = this.options.alpha / (2 * Math.max(1, stepCount));
    const release = { ...evaluateRateTest(grid, tests.release, nullIndex, alphaRelease), threshold: 1 / alphaRelease };
    const step = { ...evaluateRateTest(grid, tests.step, nullIndex, alphaStep), threshold: 1 / alphaStep };
    const strongest = release.eValue / release.threshold >= step.eValue / step.threshold ? release : step;
    return {
      ...strongest,
      rejected: release.rejected || step.rejected,
      // The release-long estimate and bound use all the data; the step's react faster.
      estimate: strongest.estimate,
      lowerBound: Math.max(release.lowerBound, step.lowerBound),
    };
  }

  judge({ sample, window, state, step, now }: JudgeInput): JudgeResult {
    const previous = this.validState(state, step.index);
    const errors = this.update(this.errorGrid, previous.errors, {
      canaryEvents: sample.canary.errors,
      canaryRequests: sample.canary.requests,
      baselineEvents: sample.baseline.errors,
      baselineRequests: sample.baseline.requests,
    });
    let slow = previous.slow;
    if (previous.slowThresholdMs !== undefined) {
      slow = this.update(this.slowGrid, previous.slow, {
        canaryEvents: slowerThan(sample.canary, previous.slowThresholdMs),
        canaryRequests: sample.canary.requests,
        baselineEvents: slowerThan(sample.baseline, previous.slowThresholdMs),
        baselineRequests: sample.baseline.requests,
      });
    }
    // The next tick's threshold comes from data up to now only, so it is fixed before that tick's data.
    const slowThresholdMs =
      bucketBoundAbove(window.baseline, this.options.latency.quantile) ?? previous.slowThresholdMs;
    const nextState: SequentialState = { version: 2, stepIndex: step.index, errors, slow, slowThresholdMs };

    const confidence = `${(100 * (1 - this.options.alpha)).toFixed(0)} %`;
    const errorTest = this.evaluate(this.errorGrid, errors, this.options.errorRate.minEffect, step.count);
    const slowTest = this.evaluate(this.slowGrid, slow, this.options.latency.minEffect, step.count);
    const enough = window.canary.requests >= this.options.minRequests && window.baseline.requests >= this.options.minRequests;

    const q = this.options.latency.quantile;
    const quantileName = `p${Math.round(q * 100)}`;
    const evidence: MetricEvidence[] = [
      this.evidence('errorRate', errorTest, this.options.errorRate, enough, {
        canary: errorRate(window.canary),
        baseline: errorRate(window.baseline),
        canaryRequests: window.canary.requests,
        baselineRequests: window.baseline.requests,
        rule: `fail when the error rate ratio is above ${1 + this.options.errorRate.minEffect} with ${confidence} confidence over the release (sequential tests over the release and over this step; the stronger one's e-value ${formatEValue(errorTest.eValue)} of ${Math.round(errorTest.threshold)} needed)`,
      }),
      this.evidence('p95LatencyMs', slowTest, this.options.latency, enough, {
        canary: histogramQuantile(window.canary.latency, q),
        baseline: histogramQuantile(window.baseline.latency, q),
        canaryRequests: window.canary.requests,
        baselineRequests: window.baseline.requests,
        threshold: previous.slowThresholdMs,
        rule: `fail when the share of requests slower than ${previous.slowThresholdMs ?? `the baseline ${quantileName} of`} ms is above ${1 + this.options.latency.minEffect}x the baseline's with ${confidence} confidence over the release (e-value ${formatEValue(slowTest.eValue)} of ${Math.round(slowTest.threshold)} needed)`,
      }),
    ];
    return { verdict: this.verdict(evidence, now), state: nextState };
  }

  private evidence(
    metric: MetricName,
    test: RateTestResult,
    options: SequentialMetricOptions,
    enough: boolean,
    values: Omit<MetricEvidence, 'metric' | 'outcome'>,
  ): MetricEvidence {
    let outcome: VerdictOutcome = 'pass';
    if (test.rejected) outcome = options.critical ? 'fail' : 'warn';
    else if (!enough) outcome = 'inconclusive';
    return {
      metric,
      outcome,
      ...values,
      estimate: test.estimate,
      lowerBound: test.lowerBound,
      eValue: test.eValue,
    };
  }

  private verdict(evidence: MetricEvidence[], now: Date): Verdict {
    const severity: Record<VerdictOutcome, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };
    const worst = evidence.reduce((a, b) => (severity[b.outcome] > severity[a.outcome] ? b : a));
    return { at: now.toISOString(), outcome: worst.outcome, summary: summarize(worst, this.options.alpha), evidence };
  }
}

function formatValue(metric: MetricName, value: number): string {
  if (!Number.isFinite(value)) return 'no data';
  return metric === 'errorRate'
    ? `${(value * 100).toFixed(3).replace(/\.?0+$/, '')}%`
    : `${Math.round(value).toLocaleString('en-US')} ms`;
}

function summarize(e: MetricEvidence, alpha: number): string {
  const name = e.metric === 'errorRate' ? 'Error rate' : 'P95 latency';
  const values = `${name} ${formatValue(e.metric, e.canary)} vs ${formatValue(e.metric, e.baseline)} baseline`;
  const what = e.metric === 'errorRate' ? 'error rate' : 'share of slow requests';
  switch (e.outcome) {
    case 'fail':
    case 'warn':
      return `${values}: canary ${what} ${formatRatio(e.estimate ?? NaN)} the baseline's, at least ${formatRatio(e.lowerBound ?? NaN)} with ${Math.round(100 * (1 - alpha))} % confidence`;
    case 'inconclusive':
      return `Not enough traffic yet (${e.canaryRequests} canary, ${e.baselineRequests} baseline requests)`;
    default:
      return `Canary healthy so far: ${values}`;
  }
}
