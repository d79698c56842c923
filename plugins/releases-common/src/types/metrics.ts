/**
 * A latency histogram with cumulative-free bucket counts, as Prometheus' `_bucket` series give them once
 * de-accumulated: `counts[i]` requests took at most `boundsMs[i]` and more than `boundsMs[i-1]`; the last
 * count is the overflow bucket (+Inf).
 */
export interface LatencyHistogram {
  boundsMs: number[];
  counts: number[];
}

/** Traffic statistics of one side (canary or baseline) over one interval. */
export interface TrafficStats {
  requests: number;
  errors: number;
  latency: LatencyHistogram;
  /** Events of named count metrics (orders placed, cache misses, ...), judged per request. */
  counters?: Record<string, number>;
}

/** The whole service's traffic in one bucket of its history, for the post-release watch. */
export interface HistoryBucket {
  from: string;
  to: string;
  stats: TrafficStats;
}

/** Canary and baseline statistics over one interval, as a metric provider reports them. */
export interface MetricSample {
  from: string;
  to: string;
  canary: TrafficStats;
  baseline: TrafficStats;
}

/** The closed set of judge outcomes. */
export type VerdictOutcome = 'pass' | 'warn' | 'fail' | 'inconclusive';

/** A named count metric's events per request, e.g. `counter:orders`. */
export type CounterMetricName = `counter:${string}`;

/** The metrics the judges compare: errors per request, the latency quantile, requests per second (post-release watch), counters. */
export type MetricName = 'errorRate' | 'p95LatencyMs' | 'requestRate' | CounterMetricName;

/** Why the judge decided what it decided for one metric. */
export interface MetricEvidence {
  metric: MetricName;
  outcome: VerdictOutcome;
  canary: number;
  baseline: number;
  canaryRequests: number;
  baselineRequests: number;
  /** The rule that decided, in words, e.g. "canary error rate > 1.5x baseline and >= 5 errors". */
  rule: string;
  /** Which way the metric gets worse (sequential judge and watch); default higher. */
  direction?: 'higher' | 'lower' | 'both';
  /** Sequential tests: the canary/baseline ratio of the tested rate over the release so far. */
  estimate?: number;
  /** Sequential tests: its anytime-valid lower confidence bound (the canary is at least this much worse). */
  lowerBound?: number;
  /** Sequential tests: the evidence against "no more than the tolerance worse" (an e-value; 1/alpha rejects). */
  eValue?: number;
  /** Latency (`p95LatencyMs`): the quantile judged when it is not 0.95 (0.99 for p99). */
  quantile?: number;
  /** Latency: the threshold (ms) above which a request counts as slow. */
  threshold?: number;
  /**
   * Latency (sequential judge): anytime-valid bounds of the quantile over the release, at the
   * histogram's bucket resolution: the canary's is above `canaryAboveMs` (0: nothing known yet) and
   * the baseline's at most `baselineAtMostMs`, together with the judge's confidence. Missing until the
   * baseline's is bounded.
   */
  quantileBounds?: { canaryAboveMs: number; baselineAtMostMs: number };
  /** The canary serves alone (100 %): `baseline` is the baseline's rate earlier in the release, which the canary is compared with. */
  baselineEarlier?: boolean;
}

/** The judge's overall verdict for one tick, with evidence per metric. */
export interface Verdict {
  at: string;
  /** `watch`: the post-release watch compared the service with its own history ("baseline" is then the usual value). Default `canary`. */
  kind?: 'canary' | 'watch';
  outcome: VerdictOutcome;
  summary: string;
  evidence: MetricEvidence[];
}

/**
 * What a plan can detect at a service's traffic: the smallest error-rate regression (canary over
 * baseline) its judge catches with `probability`, from `runs` simulated releases per ratio tried.
 */
export interface DetectableEffect {
  /** Undefined when even a 20x regression is caught less often than `probability`. */
  ratio?: number;
  probability: number;
  runs: number;
  rps: number;
  baselineErrorRate: number;
}
