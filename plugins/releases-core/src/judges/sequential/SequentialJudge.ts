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
    /** The latency quantile that matters (0.95 for p95). */
    quantile: number;
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

/** Defaults: alpha 1 %, 20 % tolerance on the error rate, and on the share of requests slower than the baseline's p95 plus 20 %. */
export const DEFAULT_SEQUENTIAL_OPTIONS: SequentialJudgeOptions = {
  alpha: 0.01,
  minRequests: 50,
  errorRate: { minEffect: 0.2, critical: true },
  latency: { quantile: 0.95, minEffect: 0.2, critical: true },
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
  version: 3;
  stepIndex: number;
  /** Per metric and direction tested (e.g. `errorRate:higher`). */
  tests: Record<string, MetricTests>;
  /** The latency above which a request counts as slow, fixed from earlier ticks' baseline. */
  slowThresholdMs?: number;
}

/** One judged metric: how to count its events in a side's traffic. */
interface Stream {
  metric: MetricName;
  options: SequentialMetricOptions;
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
 * tolerated effect (p95 x 1.2), a threshold the histograms count exactly. The margin keeps a
 * difference nobody would roll back for (a canary 0.5 ms slower, which doubles its share of
 * requests just past the baseline's p95) from being tested at all: only a heavier tail past it is.
 */
function slowThreshold(stats: TrafficStats, quantile: number, minEffect: number): number | undefined {
  const value = histogramQuantile(stats.latency, quantile);
  if (!Number.isFinite(value)) return undefined;
  return stats.latency.boundsMs.find(b => b >= value * (1 + minEffect)) ?? stats.latency.boundsMs[stats.latency.boundsMs.length - 1];
}

/** An e-value for people: whole numbers, and no astronomy. */
function formatEValue(value: number): string {
  return value >= 1e6 ? 'over 1,000,000' : Math.round(value).toLocaleString('en-US');
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
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
    this.streams = [
      { metric: 'errorRate', options: options.errorRate, events: stats => stats.errors },
      {
        metric: 'p95LatencyMs',
        options: options.latency,
        events: (stats, threshold) => (threshold === undefined ? undefined : slowerThan(stats, threshold)),
      },
      ...Object.entries(options.counters ?? {}).map(([name, counter]): Stream => ({
        metric: `counter:${name}`,
        options: counter,
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
      s?.version === 3 &&
      this.streams.every(stream =>
        directionsOf(stream.options.direction).every(
          d => s.tests[`${stream.metric}:${d}`]?.release?.logLikelihood?.length === this.grid(stream.options.minEffect).length,
        ),
      );
    const tests: Record<string, MetricTests> = {};
    for (const stream of this.streams) {
      for (const d of directionsOf(stream.options.direction)) {
        const key = `${stream.metric}:${d}`;
        const kept = fits ? s!.tests[key] : undefined;
        tests[key] =
          kept && s!.stepIndex === stepIndex
            ? kept
            : { release: kept?.release ?? emptyRateTest(this.grid(stream.options.minEffect)), step: this.fresh(stream.options.minEffect).step };
      }
    }
    return { version: 3, stepIndex, tests, slowThresholdMs: fits ? s!.slowThresholdMs : undefined };
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
    const confidence = `${(100 * (1 - this.options.alpha)).toFixed(0)} %`;
    const evidence: MetricEvidence[] = [];

    for (const stream of this.streams) {
      const { minEffect, direction = 'higher' } = stream.options;
      const grid = this.grid(minEffect);
      const directions = directionsOf(direction);
      // `both` spends half of the metric's alpha on each direction.
      const alpha = this.options.alpha / directions.length;
      const canaryEvents = stream.events(sample.canary, previous.slowThresholdMs);
      const baselineEvents = stream.events(sample.baseline, previous.slowThresholdMs);
      const results = directions.map(d => {
        const key = `${stream.metric}:${d}`;
        let t = previous.tests[key];
        if (canaryEvents !== undefined && baselineEvents !== undefined) {
          // A lower-is-worse metric: the baseline's rate over the canary's must stay within the tolerance.
          const counts =
            d === 'higher'
              ? { canaryEvents, canaryRequests: sample.canary.requests, baselineEvents, baselineRequests: sample.baseline.requests }
              : { canaryEvents: baselineEvents, canaryRequests: sample.baseline.requests, baselineEvents: canaryEvents, baselineRequests: sample.canary.requests };
          // A tick where the canary serves alone counts for the release test, against the baseline's earlier rate.
          // Not for the slow share: its threshold moves with the baseline's window, so the baseline's earlier share is of another threshold.
          const alone = this.options.compareCanaryAlone !== false && d === 'higher' && stream.metric !== 'p95LatencyMs';
          const canaryAlone = alone ? { alpha: alpha * ALPHA_SHARES.baselineBound } : undefined;
          t = { release: updateRateTest(grid, t.release, counts, { canaryAlone }), step: updateRateTest(grid, t.step, counts) };
        }
        tests[key] = t;
        return { direction: d, ...this.evaluate(grid, t, minEffect, alpha, step.count) };
      });
      const decisive = results.find(r => r.rejected) ?? results.reduce((a, b) => (a.eValue / a.threshold >= b.eValue / b.threshold ? a : b));
      evidence.push(this.evidence(stream, decisive, window, enough, confidence, previous.slowThresholdMs));
    }

    // The next tick's slow threshold comes from data up to now only, so it is fixed before that tick's data.
    const slowThresholdMs = slowThreshold(window.baseline, this.options.latency.quantile, this.options.latency.minEffect) ?? previous.slowThresholdMs;
    const nextState: SequentialState = { version: 3, stepIndex: step.index, tests, slowThresholdMs };
    return { verdict: this.verdict(evidence, now), state: nextState };
  }

  private evidence(
    stream: Stream,
    test: RateTestResult & { threshold: number; direction: 'higher' | 'lower' },
    window: CanaryBaseline,
    enough: boolean,
    confidence: string,
    slowMs: number | undefined,
  ): MetricEvidence {
    const { minEffect, critical, direction = 'higher' } = stream.options;
    let outcome: VerdictOutcome = 'pass';
    if (test.rejected) outcome = critical ? 'fail' : 'warn';
    else if (!enough) outcome = 'inconclusive';
    const q = this.options.latency.quantile;
    const rate = (stats: TrafficStats) => {
      if (stream.metric === 'errorRate') return errorRate(stats);
      if (stream.metric === 'p95LatencyMs') return histogramQuantile(stats.latency, q);
      const events = stream.events(stats, slowMs) ?? NaN;
      return stats.requests > 0 ? events / stats.requests : NaN;
    };
    const tested = {
      errorRate: 'the error rate ratio',
      p95LatencyMs: `the share of requests slower than ${slowMs === undefined ? 'the baseline' : `${slowMs} ms (the baseline`}'s p${Math.round(q * 100)} plus ${Math.round(100 * minEffect)} %, up to a bucket bound${slowMs === undefined ? ', once known' : ')'}`,
    }[stream.metric as 'errorRate' | 'p95LatencyMs'] ?? `${stream.metric.slice('counter:'.length)} per request`;
    const way = test.direction === 'higher' ? `above ${1 + minEffect}x` : `below 1/${1 + minEffect} of`;
    return {
      metric: stream.metric,
      outcome,
      canary: rate(window.canary),
      baseline: rate(window.baseline),
      canaryRequests: window.canary.requests,
      baselineRequests: window.baseline.requests,
      ...(stream.metric === 'p95LatencyMs' && { threshold: slowMs }),
      ...(stream.metric === 'p95LatencyMs' && q !== 0.95 && { quantile: q }),
      // The direction that decided (for `both`, the one with the stronger evidence).
      ...(direction !== 'higher' && { direction: test.direction }),
      rule: `fail when ${tested} is ${way} the baseline's with ${confidence} confidence over the release (sequential tests over the release and over this step; the stronger one's e-value ${formatEValue(test.eValue)} of ${formatEValue(test.threshold)} needed)`,
      // For a lower-is-worse metric these are of the baseline over the canary: how many times worse.
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

function counterName(metric: MetricName): string | undefined {
  return metric.startsWith('counter:') ? metric.slice('counter:'.length) : undefined;
}

function formatValue(metric: MetricName, value: number): string {
  if (!Number.isFinite(value)) return 'no data';
  if (counterName(metric)) return `${(value * 100).toFixed(3).replace(/\.?0+$/, '')} per 100 requests`;
  return metric === 'errorRate'
    ? `${(value * 100).toFixed(3).replace(/\.?0+$/, '')}%`
    : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** The ratio without a finite estimate: the baseline has none (worse is higher), or the canary has none (worse is lower). */
function noneSide(direction: MetricEvidence['direction']): string {
  return direction === 'lower' ? "lower than the baseline's: the canary has none" : "above the baseline's, which has none";
}

function summarize(e: MetricEvidence, alpha: number): string {
  const counter = counterName(e.metric);
  let name = `P${Math.round((e.quantile ?? 0.95) * 100)} latency`;
  let what = 'share of slow requests';
  if (e.metric === 'errorRate') [name, what] = ['Error rate', 'error rate'];
  else if (counter) [name, what] = [`${counter[0].toUpperCase()}${counter.slice(1)}`, `${counter} rate`];
  const values = `${name} ${formatValue(e.metric, e.canary)} vs ${formatValue(e.metric, e.baseline)} baseline`;
  const relation = e.direction === 'lower' ? "lower than the baseline's" : "the baseline's";
  switch (e.outcome) {
    case 'fail':
    case 'warn':
      // With no events on one side the ratio has no finite estimate; say plainly which side has none.
      return `${values}: canary ${what} ${Number.isFinite(e.estimate ?? NaN) ? `${formatRatio(e.estimate!)} ${relation}` : noneSide(e.direction)}, at least ${formatRatio(e.lowerBound ?? NaN)} with ${Math.round(100 * (1 - alpha))} % confidence`;
    case 'inconclusive':
      return `Not enough traffic yet (${e.canaryRequests} canary, ${e.baselineRequests} baseline requests)`;
    default:
      return `Canary healthy so far: ${values}`;
  }
}
