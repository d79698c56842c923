import {
  histogramQuantile,
  HistoryBucket,
  MetricEvidence,
  MetricName,
  ServiceLevel,
  TrafficStats,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { DEFAULT_SEASONAL_OPTIONS, SeasonalModel, SeriesPoint } from './seasonal';

/** Which way a metric gets worse. */
import type { Direction } from '../sequential/SequentialJudge';

export type { Direction };

/** How one metric is watched. */
export interface WatchMetricOptions {
  enabled: boolean;
  direction: Direction;
  /** A change smaller than this (0.2 = 20 % off the usual) is never an anomaly, however unusual. */
  minEffect: number;
}

/** Settings of the post-release watch. */
export interface WatchOptions {
  /** History bucket and comparison window, in seconds. */
  bucketSeconds: number;
  /** Days of history before the release that the expectation rests on. */
  historyDays: number;
  /** The same time of day plus or minus this many seconds counts as the same phase. */
  neighbourhoodSeconds: number;
  /** An anomaly is this many robust standard deviations off the expectation. */
  threshold: number;
  /** ... and lasts at least this long before it counts. */
  forSeconds: number;
  /** Fewer requests than this in the window: error rate and latency are inconclusive. */
  minRequests: number;
  /** What an anomaly does: roll back at once, or alert the owners and keep the version. */
  onAnomaly: 'rollback' | 'alert';
  errorRate: WatchMetricOptions;
  latency: WatchMetricOptions & { quantile: number };
  requestRate: WatchMetricOptions;
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = {
  bucketSeconds: 30,
  historyDays: 7,
  neighbourhoodSeconds: 900,
  threshold: 5,
  forSeconds: 10,
  minRequests: 50,
  onAnomaly: 'rollback',
  errorRate: { enabled: true, direction: 'higher', minEffect: 0.5 },
  latency: { enabled: true, direction: 'higher', minEffect: 0.2, quantile: 0.95 },
  requestRate: { enabled: true, direction: 'lower', minEffect: 0.3 },
};

/** What the watch sees on a tick. */
export interface WatchInput {
  /** The whole service (all of it the new version) over the last `windowSeconds`. */
  window: TrafficStats;
  windowSeconds: number;
  /** The service's history before the release; needed until the judge has built its expectations. */
  history?: HistoryBucket[];
  /** What this judge returned on the previous tick; undefined on the first. */
  state?: unknown;
  watch: { startedAt: Date; seconds: number };
  now: Date;
}

type Watched = 'errorRate' | 'p95LatencyMs' | 'requestRate';
const WATCHED: readonly Watched[] = ['errorRate', 'p95LatencyMs', 'requestRate'];

/** The expectations of the whole watch, computed once from the history, and the anomalies under way. */
interface WatchState {
  version: 'watch-1';
  startMs: number;
  slotMs: number;
  /** Per metric and per slot of the watch: [center, robust standard deviation]. */
  expected: Partial<Record<Watched, Array<[number, number]>>>;
  seasonal: boolean;
  historyBuckets: number;
  /** Since when (epoch ms) each metric has been anomalous without a break. */
  anomalousSince: Partial<Record<Watched, number>>;
}

function isWatchState(state: unknown): state is WatchState {
  return (state as WatchState | undefined)?.version === 'watch-1';
}

const NAMES: Record<Watched, string> = {
  errorRate: 'Error rate',
  p95LatencyMs: 'Latency',
  requestRate: 'Traffic',
};

function format(metric: Watched, value: number, quantile: number): string {
  if (!Number.isFinite(value)) return 'no data';
  if (metric === 'errorRate') return `${(value * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
  if (metric === 'requestRate') return `${value.toFixed(value < 10 ? 1 : 0)} requests/s`;
  return `p${Math.round(quantile * 100)} ${Math.round(value).toLocaleString('en-US')} ms`;
}

/**
 * The post-release watch: with no baseline left, each metric of the service is compared with what
 * its own history says it should be at this time of day (a robust seasonal model). A metric that
 * stays `threshold` robust standard deviations and `minEffect` off its expectation, in its bad
 * direction, for `forSeconds` is an anomaly: a fail (roll back) or a warn (alert the owners).
 * Pure: the history comes in once, and what it learned from it travels in the state.
 */
export class WatchJudge {
  constructor(readonly options: WatchOptions = DEFAULT_WATCH_OPTIONS) {}

  private metricOptions(metric: Watched): WatchMetricOptions {
    if (metric === 'errorRate') return this.options.errorRate;
    if (metric === 'p95LatencyMs') return this.options.latency;
    return this.options.requestRate;
  }

  /** A metric's value in some traffic over some seconds. */
  private value(metric: Watched, stats: TrafficStats, seconds: number): number {
    if (metric === 'requestRate') return seconds > 0 ? stats.requests / seconds : NaN;
    if (stats.requests === 0) return NaN;
    return metric === 'errorRate'
      ? stats.errors / stats.requests
      : histogramQuantile(stats.latency, this.options.latency.quantile);
  }

  /** The seasonal model of each watched metric over the history. */
  private models(history: HistoryBucket[]): Array<[Watched, SeasonalModel]> {
    return WATCHED.filter(metric => this.metricOptions(metric).enabled).map(metric => {
      const series: SeriesPoint[] = history.map(b => {
        const seconds = (Date.parse(b.to) - Date.parse(b.from)) / 1000;
        return { at: Date.parse(b.to), value: this.value(metric, b.stats, seconds) };
      });
      return [metric, new SeasonalModel(series, { ...DEFAULT_SEASONAL_OPTIONS, neighbourhoodSeconds: this.options.neighbourhoodSeconds })];
    });
  }

  /** Builds the expectations for every slot of the watch from the history. */
  private learn(history: HistoryBucket[], watch: WatchInput['watch']): WatchState {
    const slotMs = this.options.bucketSeconds * 1000;
    const startMs = watch.startedAt.getTime();
    const slots = Math.ceil((watch.seconds * 1000) / slotMs) + 2;
    const expected: WatchState['expected'] = {};
    const seasonalities: boolean[] = [];
    for (const [metric, model] of this.models(history)) {
      const expectations = Array.from({ length: slots }, (_, i) => model.expect(startMs + i * slotMs));
      seasonalities.push(...expectations.map(e => e.seasonal));
      expected[metric] = expectations.map(e => [e.center, e.scale] as [number, number]);
    }
    const seasonal = seasonalities.every(Boolean);
    return { version: 'watch-1', startMs, slotMs, expected, seasonal, historyBuckets: history.length, anomalousSince: {} };
  }

  /**
   * The service's usual error rate and latency at `at`, by the watch's model of its history
   * (the recovery check's yardstick); undefined when the history says nothing about them.
   */
  usualLevel(history: HistoryBucket[], at: Date): ServiceLevel | undefined {
    const level: ServiceLevel = { source: 'history', basis: history.length, seasonal: true };
    for (const [metric, model] of this.models(history)) {
      if (metric === 'requestRate') continue;
      const e = model.expect(at.getTime());
      if (!Number.isFinite(e.center)) continue;
      level[metric] = [e.center, e.scale];
      level.seasonal = level.seasonal && e.seasonal;
    }
    return level.errorRate || level.p95LatencyMs ? level : undefined;
  }

  /** A measured level (the stable side's traffic before a rollback) as a yardstick with no spread of its own. */
  levelOf(stats: TrafficStats): ServiceLevel | undefined {
    if (stats.requests === 0) return undefined;
    const level: ServiceLevel = { source: 'release', basis: stats.requests };
    for (const metric of ['errorRate', 'p95LatencyMs'] as const) {
      const value = this.value(metric, stats, 1);
      if (this.metricOptions(metric).enabled && Number.isFinite(value)) level[metric] = [value, 0];
    }
    return level;
  }

  /**
   * Is the whole service at `level`? Yes when neither its error rate nor its latency would be an
   * anomaly to the watch (the same bands and minimum effects); not yet while the window holds fewer
   * requests than the watch needs.
   */
  atLevel(window: TrafficStats, windowSeconds: number, level: ServiceLevel): { recovered: boolean; summary: string } {
    const q = this.options.latency.quantile;
    const parts: string[] = [];
    let recovered = true;
    for (const metric of ['errorRate', 'p95LatencyMs'] as const) {
      const expected = level[metric];
      if (!expected) continue;
      const e = this.assess(metric, window, windowSeconds, expected[0], expected[1], level.basis);
      if (e.outcome !== 'pass') recovered = false;
      const usual = level.source === 'history' ? `usually ${format(metric, expected[0], q)} at this time of day` : `before the release ${format(metric, expected[0], q)}`;
      parts.push(`${metric === 'errorRate' ? 'error rate' : 'latency'} ${format(metric, e.canary, q)} (${usual})`);
    }
    if (window.requests < this.options.minRequests) {
      return { recovered: false, summary: `${window.requests} requests since the traffic was restored, waiting for ${this.options.minRequests}` };
    }
    const basis = level.source === 'history' ? `${level.seasonal ? `${this.options.historyDays}-day` : 'recent'} history` : 'the stable side during the release';
    return { recovered, summary: `${parts.join(', ')} over ${window.requests} requests; yardstick: ${basis}` };
  }

  /** True when the judge still needs the history (first tick of a watch). */
  needsHistory(state: unknown): boolean {
    return !isWatchState(state);
  }

  judge(input: WatchInput): { verdict: Verdict; state: unknown } {
    const { now, window, windowSeconds } = input;
    if (!isWatchState(input.state) && !input.history?.length) {
      return {
        verdict: {
          at: now.toISOString(),
          kind: 'watch',
          outcome: 'inconclusive',
          summary: 'Watching without history: the target gives no history of the service to compare with',
          evidence: [],
        },
        state: input.state,
      };
    }
    const state = isWatchState(input.state) ? input.state : this.learn(input.history!, input.watch);
    const slot = Math.max(0, Math.round((now.getTime() - state.startMs) / state.slotMs));
    const anomalousSince = { ...state.anomalousSince };
    const evidence: MetricEvidence[] = [];
    for (const metric of WATCHED) {
      const table = state.expected[metric];
      if (!table) continue;
      const [center, spread] = table[Math.min(slot, table.length - 1)];
      const e = this.assess(metric, window, windowSeconds, center, spread, state.historyBuckets);
      if (e.outcome === 'fail') {
        anomalousSince[metric] = anomalousSince[metric] ?? now.getTime();
        const lasted = (now.getTime() - anomalousSince[metric]!) / 1000;
        if (lasted < this.options.forSeconds) {
          e.outcome = 'pass';
          e.rule += ` (unusual for ${Math.round(lasted)} s of the ${this.options.forSeconds} s that count)`;
        } else if (this.options.onAnomaly === 'alert') {
          e.outcome = 'warn';
        }
      } else {
        delete anomalousSince[metric];
      }
      evidence.push(e);
    }
    return {
      verdict: this.verdict(evidence, now, state),
      state: { ...state, anomalousSince },
    };
  }

  /** One metric against its expectation; 'fail' here means "anomalous now", before the duration rule. */
  private assess(
    metric: Watched,
    window: TrafficStats,
    windowSeconds: number,
    center: number,
    spread: number,
    historyBuckets: number,
  ): MetricEvidence {
    const options = this.metricOptions(metric);
    const q = this.options.latency.quantile;
    const value = this.value(metric, window, windowSeconds);
    // A window shorter than a history bucket is noisier by the square root of the ratio.
    const shortWindow = Math.sqrt(Math.max(1, this.options.bucketSeconds / Math.max(windowSeconds, 1)));
    const scale = Math.max(spread, this.noiseFloor(metric, center, window, windowSeconds)) * shortWindow;
    const upper = center + this.options.threshold * scale;
    const lower = center - this.options.threshold * scale;
    const base = {
      metric: metric as MetricName,
      canary: value,
      baseline: center,
      canaryRequests: window.requests,
      baselineRequests: historyBuckets,
      estimate: center !== 0 ? value / center : NaN,
      ...(metric === 'p95LatencyMs' && q !== 0.95 && { quantile: q }),
      threshold: options.direction === 'lower' ? lower : upper,
    };
    const usual = `the usual ${format(metric, center, q)} at this time of day`;
    const band = {
      higher: `above ${format(metric, upper, q)}`,
      lower: `below ${format(metric, Math.max(0, lower), q)}`,
      both: `outside ${format(metric, Math.max(0, lower), q)} to ${format(metric, upper, q)}`,
    }[options.direction];
    const rule = `anomalous when ${band} (${usual}, ${this.options.threshold} robust standard deviations) and more than ${Math.round(options.minEffect * 100)}% off it for ${this.options.forSeconds} s`;
    if (!Number.isFinite(value) || !Number.isFinite(center) || (metric !== 'requestRate' && window.requests < this.options.minRequests)) {
      return { ...base, outcome: 'inconclusive', rule };
    }
    const relative = center !== 0 ? (value - center) / Math.abs(center) : Math.sign(value - center) * Infinity;
    const high = value > upper && relative > options.minEffect;
    const low = value < lower && -relative > options.minEffect;
    const anomalous =
      (options.direction !== 'lower' && high) || (options.direction !== 'higher' && low);
    return { ...base, outcome: anomalous ? 'fail' : 'pass', rule };
  }

  /** The least spread a metric can have: the sampling noise of the window itself. */
  private noiseFloor(metric: Watched, center: number, window: TrafficStats, seconds: number): number {
    const n = Math.max(window.requests, 1);
    if (metric === 'errorRate') return Math.sqrt(Math.max(center, 1 / n) / n);
    if (metric === 'requestRate') return Math.max(Math.sqrt(Math.max(center, 1) / Math.max(seconds, 1)), 0.02 * center);
    return 0.02 * Math.abs(center);
  }

  private verdict(evidence: MetricEvidence[], now: Date, state: WatchState): Verdict {
    const severity: Record<VerdictOutcome, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };
    const worst = evidence.reduce<MetricEvidence | undefined>(
      (a, b) => (!a || severity[b.outcome] > severity[a.outcome] ? b : a),
      undefined,
    );
    const q = this.options.latency.quantile;
    const history = state.seasonal
      ? `${this.options.historyDays}-day history`
      : 'recent history; too short for a daily pattern';
    let summary = `Watching: every metric within its usual range (${history})`;
    if (worst && (worst.outcome === 'fail' || worst.outcome === 'warn')) {
      const m = worst.metric as Watched;
      summary = `${NAMES[m]} ${format(m, worst.canary, q)}, usually ${format(m, worst.baseline, q)} at this time of day (${history}): anomalous for ${this.options.forSeconds} s or more`;
    } else if (worst?.outcome === 'inconclusive') {
      summary = `Watching: not enough traffic yet (${worst.canaryRequests} requests)`;
    }
    return { at: now.toISOString(), kind: 'watch', outcome: worst?.outcome ?? 'inconclusive', summary, evidence };
  }
}
