import {
  errorRate,
  histogramQuantile,
  MetricEvidence,
  MetricName,
  TrafficStats,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline, Judge, JudgeInput, JudgeResult } from '../judge';
import { formatEValue, summarize } from './evidence';
import { quantileLowerBound, quantileUpperBound } from './quantileBounds';
import {
  emptyRateTest,
  evaluateRateTest,
  rateRatioGrid,
  RateTestResult,
  RateTestState,
  updateRateTest,
} from './rateRatioTest';

/** Which way a metric gets worse: a higher rate (errors), a lower one (orders placed), or either. */
export type Direction = 'higher' | 'lower' | 'both';

/** Settings of one judged metric. */
export interface SequentialMetricOptions {
  /** A canary this much worse (0.2 = 20 % higher rate, or 20 % lower for `lower`) or less is not worth a rollback. */
  minEffect: number;
  /** A critical metric's failure rolls back; a non-critical one pauses for a person. */
  critical: boolean;
  /** Default `higher`. */
  direction?: Direction;
}

/** Settings of the sequential judge. */
export interface SequentialJudgeOptions {
  /** The false-rollback probability per metric, over the whole release, however often it looks. */
  alpha: number;
  /** Fewer canary requests than this in the window: inconclusive. */
  minRequests: number;
  errorRate: SequentialMetricOptions;
  latency: SequentialMetricOptions & {
    /** The latency quantiles judged (default p50, p95 and p99), each at alpha / their number. */
    quantiles: number[];
    /** A request counts as slow only this many milliseconds past the baseline's quantile, too (default 10). */
    minEffectMs?: number;
  };
  /** Named count metrics (events per request in `TrafficStats.counters`), e.g. orders placed with direction `lower`. */
  counters?: Record<string, SequentialMetricOptions>;
  /**
   * Ticks where the canary serves alone (the 100 % step) count too, against the baseline's rate
   * earlier in the release (errors and counters; default true). It assumes the stable version's
   * rate does not change meanwhile; turn it off for a service whose error rate swings within minutes.
   */
  compareCanaryAlone?: boolean;
}

/** Defaults: alpha 1 %, 20 % tolerance on the error rate, and on the shares of requests slower than the baseline's p50, p95 and p99 plus 20 %. */
export const DEFAULT_SEQUENTIAL_OPTIONS: SequentialJudgeOptions = {
  alpha: 0.01,
  minRequests: 50,
  errorRate: { minEffect: 0.2, critical: true },
  latency: { quantiles: [0.5, 0.95, 0.99], minEffect: 0.2, minEffectMs: 10, critical: true },
};

/**
 * How a metric's alpha is spent (measured with `yarn bench:judge --grid`, docs/judge.md): most on
 * the release-long test, whose evidence gathers over every step; a tenth on the per-step tests; and
 * a twentieth on the bound of the baseline's rate that lets the release test count the ticks where
 * the canary serves alone.
 */
export const ALPHA_SHARES = { release: 0.85, steps: 0.1, baselineBound: 0.05 } as const;

/** The two tests of one metric in one direction. */
interface MetricTests {
  /** Over the whole release, at alpha x 0.85 (+ 0.05 for the baseline bound): slow regressions gather evidence across steps. */
  release: RateTestState;
  /** Over the current step only, at alpha x 0.1 / steps: a fault that appears at a step is not held
   *  back by the evidence of a long healthy history. */
  step: RateTestState;
}

/** What the judge remembers across the ticks of a release. */
interface SequentialState {
  version: 4;
  stepIndex: number;
  /** Per stream and direction tested (e.g. `errorRate:higher`, `latency:p99:higher`). */
  tests: Record<string, MetricTests>;
  /** Per latency stream, the latency above which a request counts as slow, fixed from earlier ticks' baseline. */
  slowThresholdsMs: Record<string, number>;
  /** Each side's latency histogram over the release (de-accumulated counts), for the quantiles' bounds. */
  latency?: { canary: number[]; baseline: number[] };
}

/** One judged metric: how to count its events in a side's traffic. */
interface Stream {
  /** `errorRate`, `latency:p99`, `counter:orders`. */
  key: string;
  metric: MetricName;
  /** Latency streams: the quantile. */
  quantile?: number;
  options: SequentialMetricOptions;
  /** This stream's share of the judge's alpha (the latency quantiles split theirs). */
  alpha: number;
  /**
   * Whether what counts as an event stays the same over the release, so a canary serving alone can
   * be compared with the baseline's earlier rate. Not for the slow shares: their thresholds move with
   * the baseline's window, so the baseline's earlier share is of another threshold.
   */
  comparableOverTime: boolean;
  /** Events in some traffic, or undefined when they cannot be counted yet (no slow threshold). */
  events(stats: TrafficStats, slowThresholdMs: number | undefined): number | undefined;
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

/**
 * The slow threshold: the bucket bound at or above the baseline's latency quantile plus the
 * tolerated effect (p95 x 1.2, and at least `minEffectMs` more), a threshold the histograms count
 * exactly. The margin keeps a difference nobody would roll back for (a canary 0.5 ms slower, which
 * doubles its share of requests just past the baseline's p95) from being tested at all: only a
 * heavier tail past it is. The milliseconds matter for the lower quantiles of a fast service, whose
 * next bucket bound is otherwise far out in the tail.
 */
function slowThreshold(stats: TrafficStats, quantile: number, minEffect: number, minEffectMs: number): number | undefined {
  const value = histogramQuantile(stats.latency, quantile);
  if (!Number.isFinite(value)) return undefined;
  const least = Math.max(value * (1 + minEffect), value + minEffectMs);
  return stats.latency.boundsMs.find(b => b >= least) ?? stats.latency.boundsMs[stats.latency.boundsMs.length - 1];
}

/** Each side's histogram over the release, with this tick's added; started afresh when the buckets change. */
function addHistograms(previous: SequentialState['latency'], sample: CanaryBaseline): SequentialState['latency'] {
  const [canary, baseline] = [sample.canary.latency.counts, sample.baseline.latency.counts];
  if (canary.length !== baseline.length) return previous;
  const fits = previous && previous.canary.length === canary.length;
  return {
    canary: canary.map((count, i) => count + (fits ? previous.canary[i] : 0)),
    baseline: baseline.map((count, i) => count + (fits ? previous.baseline[i] : 0)),
  };
}

/** The quantile's anytime-valid bounds over the release, each at `alpha`: only once the baseline's is bounded. */
function quantileBoundsOf(latency: NonNullable<SequentialState['latency']>, boundsMs: readonly number[], q: number, alpha: number) {
  if (latency.canary.length !== boundsMs.length + 1) return {};
  const baselineAtMostMs = quantileUpperBound(latency.baseline, boundsMs, q, alpha);
  if (!Number.isFinite(baselineAtMostMs)) return {};
  return { quantileBounds: { canaryAboveMs: quantileLowerBound(latency.canary, boundsMs, q, alpha), baselineAtMostMs } };
}

const directionsOf = (direction: Direction = 'higher'): Array<'higher' | 'lower'> =>
  direction === 'both' ? ['higher', 'lower'] : [direction];

/**
 * The statistical judge: anytime-valid sequential tests of canary against baseline for the error
 * rate, the share of slow requests (slower than the baseline's latency quantile) and any named count
 * metric, each against "no more than minEffect worse than the baseline" in its bad direction (a
 * `lower` metric is tested with canary and baseline swapped; `both` tests each way at half the
 * alpha). Each metric's chance of ever rolling back a healthy canary is at most alpha across all
 * ticks and steps of a release.
 */
export class SequentialJudge implements Judge {
  private readonly streams: Stream[];
  private readonly grids = new Map<number, number[]>();

  constructor(readonly options: SequentialJudgeOptions = DEFAULT_SEQUENTIAL_OPTIONS) {
    const { alpha, latency } = options;
    this.streams = [
      { key: 'errorRate', metric: 'errorRate', options: options.errorRate, alpha, comparableOverTime: true, events: stats => stats.errors },
      ...latency.quantiles.map((quantile): Stream => ({
        key: `latency:p${Math.round(quantile * 1000) / 10}`,
        metric: 'p95LatencyMs',
        quantile,
        options: latency,
        alpha: alpha / latency.quantiles.length,
        comparableOverTime: false,
        events: (stats, threshold) => (threshold === undefined ? undefined : slowerThan(stats, threshold)),
      })),
      ...Object.entries(options.counters ?? {}).map(([name, counter]): Stream => ({
        key: `counter:${name}`,
        metric: `counter:${name}`,
        options: counter,
        alpha,
        comparableOverTime: true,
        events: stats => stats.counters?.[name] ?? 0,
      })),
    ];
  }

  private grid(minEffect: number): number[] {
    let grid = this.grids.get(minEffect);
    if (!grid) {
      grid = rateRatioGrid(1 + minEffect);
      this.grids.set(minEffect, grid);
    }
    return grid;
  }

  private fresh(minEffect: number): MetricTests {
    return { release: emptyRateTest(this.grid(minEffect)), step: emptyRateTest(this.grid(minEffect)) };
  }

  /** The state to continue: a new step starts its step tests afresh; another configuration starts over. */
  private validState(state: unknown, stepIndex: number): SequentialState {
    const s = state as SequentialState | undefined;
    const fits =
      s?.version === 4 &&
      this.streams.every(stream =>
        directionsOf(stream.options.direction).every(
          d => s.tests[`${stream.key}:${d}`]?.release?.logLikelihood?.length === this.grid(stream.options.minEffect).length,
        ),
      );
    const tests: Record<string, MetricTests> = {};
    for (const stream of this.streams) {
      for (const d of directionsOf(stream.options.direction)) {
        const key = `${stream.key}:${d}`;
        const kept = fits ? s!.tests[key] : undefined;
        tests[key] =
          kept && s!.stepIndex === stepIndex
            ? kept
            : { release: kept?.release ?? emptyRateTest(this.grid(stream.options.minEffect)), step: this.fresh(stream.options.minEffect).step };
      }
    }
    return { version: 4, stepIndex, tests, slowThresholdsMs: fits ? s!.slowThresholdsMs : {}, latency: fits ? s!.latency : undefined };
  }

  /** The verdict of both tests: the one with the stronger evidence relative to its own threshold. */
  private evaluate(grid: number[], tests: MetricTests, minEffect: number, alpha: number, stepCount: number) {
    const nullIndex = grid.indexOf(1 + minEffect);
    const alphaRelease = alpha * ALPHA_SHARES.release;
    const alphaStep = (alpha * ALPHA_SHARES.steps) / Math.max(1, stepCount);
    const release = { ...evaluateRateTest(grid, tests.release, nullIndex, alphaRelease), threshold: 1 / alphaRelease };
    const step = { ...evaluateRateTest(grid, tests.step, nullIndex, alphaStep), threshold: 1 / alphaStep };
    const strongest = release.eValue / release.threshold >= step.eValue / step.threshold ? release : step;
    return {
      ...strongest,
      rejected: release.rejected || step.rejected,
      // The release-long estimate and bound use all the data; the step's react faster.
      lowerBound: Math.max(release.lowerBound, step.lowerBound),
    };
  }

  judge({ sample, window, state, step, now }: JudgeInput): JudgeResult {
    const previous = this.validState(state, step.index);
    const tests: Record<string, MetricTests> = {};
    const enough = window.canary.requests >= this.options.minRequests && window.baseline.requests >= this.options.minRequests;
    const latency = addHistograms(previous.latency, sample);
    const evidence: MetricEvidence[] = [];

    for (const stream of this.streams) {
      const { minEffect, direction = 'higher' } = stream.options;
      const grid = this.grid(minEffect);
      const directions = directionsOf(direction);
      // `both` spends half of the stream's alpha on each direction.
      const alpha = stream.alpha / directions.length;
      const slowMs = previous.slowThresholdsMs[stream.key];
      // Ticks where the canary serves alone count for the release test, against the baseline's earlier rate.
      const comparedAlone = this.options.compareCanaryAlone !== false && stream.comparableOverTime;
      const canaryEvents = stream.events(sample.canary, slowMs);
      const baselineEvents = stream.events(sample.baseline, slowMs);
      const results = directions.map(d => {
        const key = `${stream.key}:${d}`;
        let t = previous.tests[key];
        if (canaryEvents !== undefined && baselineEvents !== undefined) {
          // A lower-is-worse metric: the baseline's rate over the canary's must stay within the tolerance.
          const counts =
            d === 'higher'
              ? { canaryEvents, canaryRequests: sample.canary.requests, baselineEvents, baselineRequests: sample.baseline.requests }
              : { canaryEvents: baselineEvents, canaryRequests: sample.baseline.requests, baselineEvents: canaryEvents, baselineRequests: sample.canary.requests };
          const canaryAlone = comparedAlone && d === 'higher' ? { alpha: alpha * ALPHA_SHARES.baselineBound } : undefined;
          t = { release: updateRateTest(grid, t.release, counts, { canaryAlone }), step: updateRateTest(grid, t.step, counts) };
        }
        tests[key] = t;
        return { direction: d, ...this.evaluate(grid, t, minEffect, alpha, step.count) };
      });
      const decisive = results.find(r => r.rejected) ?? results.reduce((a, b) => (a.eValue / a.threshold >= b.eValue / b.threshold ? a : b));
      // A canary serving alone is compared with the baseline's rate earlier in the release: say which.
      const earlier = tests[`${stream.key}:higher`]?.release.totals;
      const baselineEarlier =
        comparedAlone && window.baseline.requests === 0 && window.canary.requests > 0 && earlier && earlier.baselineRequests > 0
          ? earlier.baselineEvents / earlier.baselineRequests
          : undefined;
      evidence.push({ ...this.evidence(stream, decisive, window, enough, slowMs, latency), ...(baselineEarlier !== undefined && { baseline: baselineEarlier, baselineEarlier: true }) });
    }

    // The next tick's slow thresholds come from data up to now only, so they are fixed before that tick's data.
    const slowThresholdsMs = Object.fromEntries(
      this.streams
        .filter(stream => stream.quantile !== undefined)
        .flatMap(stream => {
          const threshold =
            slowThreshold(window.baseline, stream.quantile!, stream.options.minEffect, this.options.latency.minEffectMs ?? 10) ?? previous.slowThresholdsMs[stream.key];
          return threshold === undefined ? [] : [[stream.key, threshold]];
        }),
    );
    const nextState: SequentialState = { version: 4, stepIndex: step.index, tests, slowThresholdsMs, latency };
    return { verdict: this.verdict(evidence, now), state: nextState };
  }

  private evidence(
    stream: Stream,
    test: RateTestResult & { threshold: number; direction: 'higher' | 'lower' },
    window: CanaryBaseline,
    enough: boolean,
    slowMs: number | undefined,
    latency: SequentialState['latency'],
  ): MetricEvidence {
    const { minEffect, critical, direction = 'higher' } = stream.options;
    let outcome: VerdictOutcome = 'pass';
    if (test.rejected) outcome = critical ? 'fail' : 'warn';
    else if (!enough) outcome = 'inconclusive';
    const q = stream.quantile;
    const rate = (stats: TrafficStats) => {
      if (stream.metric === 'errorRate') return errorRate(stats);
      if (q !== undefined) return histogramQuantile(stats.latency, q);
      const events = stream.events(stats, slowMs) ?? NaN;
      return stats.requests > 0 ? events / stats.requests : NaN;
    };
    const confidence = `${(100 * (1 - this.options.alpha)).toFixed(0)} %`;
    const quantiles = this.options.latency.quantiles.length;
    let tested = `${stream.metric.slice('counter:'.length)} per request`;
    if (stream.metric === 'errorRate') tested = 'the error rate ratio';
    else if (q !== undefined) {
      tested = `the share of requests slower than ${slowMs === undefined ? 'the baseline' : `${slowMs} ms (the baseline`}'s p${Math.round(q * 100)} plus ${Math.round(100 * minEffect)} % and ${this.options.latency.minEffectMs ?? 10} ms, up to a bucket bound${slowMs === undefined ? ', once known' : ')'}`;
    }
    const way = test.direction === 'higher' ? `above ${1 + minEffect}x` : `below 1/${1 + minEffect} of`;
    const multiplicity = q !== undefined && quantiles > 1 ? `; one of ${quantiles} latency quantiles, each at alpha / ${quantiles}` : '';
    return {
      metric: stream.metric,
      outcome,
      canary: rate(window.canary),
      baseline: rate(window.baseline),
      canaryRequests: window.canary.requests,
      baselineRequests: window.baseline.requests,
      ...(q !== undefined && { threshold: slowMs, quantile: q }),
      ...(q !== undefined && latency && quantileBoundsOf(latency, window.canary.latency.boundsMs, q, this.options.alpha / (2 * quantiles))),
      // The direction that decided (for `both`, the one with the stronger evidence).
      ...(direction !== 'higher' && { direction: test.direction }),
      rule: `fail when ${tested} is ${way} the baseline's with ${confidence} confidence over the release (sequential tests over the release and over this step; the stronger one's e-value ${formatEValue(test.eValue)} of ${formatEValue(test.threshold)} needed${multiplicity})`,
      // For a lower-is-worse metric these are of the baseline over the canary: how many times worse.
      estimate: test.estimate,
      lowerBound: test.lowerBound,
      eValue: test.eValue,
    };
  }

  private verdict(evidence: MetricEvidence[], now: Date): Verdict {
    const severity: Record<VerdictOutcome, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };
    // The worst outcome; among equals, the strongest evidence (of several failing quantiles, the one that moved most).
    const worst = evidence.reduce((a, b) => {
      if (severity[b.outcome] !== severity[a.outcome]) return severity[b.outcome] > severity[a.outcome] ? b : a;
      return (b.eValue ?? 0) > (a.eValue ?? 0) ? b : a;
    });
    return { at: now.toISOString(), outcome: worst.outcome, summary: summarize(worst, this.options.alpha), evidence };
  }
}
