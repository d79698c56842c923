import { LoggerService } from '@backstage/backend-plugin-api';
import {
  emptyTrafficStats,
  HistoryBucket,
  MetricSample,
  TrafficStats,
} from '@release-pilot/plugin-releases-common';
import {
  AnnotationRule,
  checkedValue,
  entityPlaceholders,
  fillPlaceholders,
  histogramFromBuckets,
  MetricProvider,
  patternRule,
  ReleaseTargetContext,
} from '@release-pilot/plugin-releases-node';
import { PrometheusOptions } from './config';
import { PrometheusClient, RangeSeries } from './PrometheusClient';
import { batchableTemplate, equalityMatchers, SampleBatcher } from './SampleBatcher';

/** Annotations an entity overrides the target's selectors with. */
export const PROMETHEUS_SELECTOR_ANNOTATIONS = {
  canary: 'release-pilot.io/prometheus-canary-selector',
  baseline: 'release-pilot.io/prometheus-baseline-selector',
  service: 'release-pilot.io/prometheus-service-selector',
} as const;

type Side = keyof typeof PROMETHEUS_SELECTOR_ANNOTATIONS;

const MATCHER = '[a-zA-Z_][a-zA-Z0-9_]* *(?:=|!=|=~|!~) *"[^"\\\\\\n\\r{}]*"';
/**
 * PromQL label matchers as a selector holds them: `label op "value"`, comma-separated. No quote,
 * backslash, brace or newline inside a value, so a selector can neither close the query's braces
 * nor add a query of its own.
 */
export const PROMETHEUS_SELECTOR = patternRule(
  new RegExp(`^(?=[^]{1,512}$) *${MATCHER}(?: *, *${MATCHER})* *,? *$`),
  'PromQL label matchers (label="value", label=~"regex", ..., comma-separated; no quote, backslash, brace or newline in a value), at most 512 characters',
);

/**
 * How the entity annotations this provider reads must look (`${entityName}`, `${version}` ... may
 * stand in a value), and the target's selectors without them; each selector names an entity's own metrics.
 */
export function prometheusAnnotationRules(selectors: PrometheusOptions['selectors']): AnnotationRule[] {
  return (Object.keys(PROMETHEUS_SELECTOR_ANNOTATIONS) as Side[]).map(side => ({
    annotation: PROMETHEUS_SELECTOR_ANNOTATIONS[side],
    rule: PROMETHEUS_SELECTOR,
    default: selectors[side],
    claim: `prometheus-${side}-selector`,
  }));
}

/**
 * A counter's increase from `start` to `end`: the difference of the two points, the value at the
 * end alone after a counter reset or for a series that appeared in between (a new process counts
 * from zero), and nothing for a series that went away.
 */
export function counterIncrease(start: number | undefined, end: number | undefined): number {
  if (end === undefined || !Number.isFinite(end)) return 0;
  if (start === undefined || !Number.isFinite(start) || end < start) return end;
  return end - start;
}

/** The per-series increases of a two-point range query (points at `t0` and `t1`), keyed by `label`'s value. */
function increasesBy(series: RangeSeries[], t0: number, t1: number, label?: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of series) {
    let start: number | undefined;
    let end: number | undefined;
    for (const [t, v] of s.values) {
      if (Math.abs(t - t1) <= Math.abs(t - t0)) end = Number(v);
      else start = Number(v);
    }
    const key = label ? s.metric[label] ?? '' : '';
    sums.set(key, (sums.get(key) ?? 0) + counterIncrease(start, end));
  }
  return sums;
}

const fill = fillPlaceholders;

/** Every query template by what it measures: requests, errors, latencyBuckets and `counter:<name>`. */
function queryTemplates(options: PrometheusOptions): Record<string, string> {
  const { counters, ...main } = options.queries;
  return { ...main, ...Object.fromEntries(Object.entries(counters).map(([name, query]) => [`counter:${name}`, query])) };
}

/**
 * Canary and baseline statistics from Prometheus. Every query is an expression of cumulative
 * counters (requests, errors, histogram buckets, named counters), evaluated at both ends of the
 * tick's interval in one range query and differenced per series: consecutive ticks add up exactly,
 * with no extrapolation (as `increase()` would do) and correct across counter resets. A side with no
 * series reports zero requests ("no data": the judge is inconclusive and the step waits), while an
 * unreachable, slow or failing Prometheus is an error (counted toward the target's provider-error limit).
 */
export class PrometheusMetricProvider implements MetricProvider {
  readonly annotationRules: readonly AnnotationRule[];

  /** Batches many releases' samples into one query per metric, where every query template allows it. */
  private readonly batcher?: SampleBatcher;

  constructor(
    private readonly options: PrometheusOptions,
    private readonly client: PrometheusClient,
    private readonly logger?: LoggerService,
  ) {
    this.annotationRules = prometheusAnnotationRules(options.selectors);
    const templates = Object.entries(queryTemplates(options)).map(([key, template]) => [key, batchableTemplate(template)] as const);
    if (options.batch.windowMs > 0 && templates.every(([, t]) => t)) {
      this.batcher = new SampleBatcher(
        client,
        Object.fromEntries(templates) as Record<string, { metric: string; rest: string }>,
        (results, t0, t1) => this.sideStats(results, t0, t1),
        options.batch.windowMs,
        options.batch.maxReleases,
      );
    }
  }

  static create(options: PrometheusOptions, logger?: LoggerService): PrometheusMetricProvider {
    return new PrometheusMetricProvider(options, new PrometheusClient(options), logger);
  }

  /**
   * A side's label matchers: the entity's annotation, else the target's, with placeholders filled,
   * and checked before they go into a query (the annotation, the entity's name and the version come
   * from outside config).
   */
  selector(context: ReleaseTargetContext, side: Side): string {
    const template = context.annotations[PROMETHEUS_SELECTOR_ANNOTATIONS[side]] ?? this.options.selectors[side];
    return checkedValue(fill(template, entityPlaceholders(context.entityRef, context.version)), PROMETHEUS_SELECTOR, `The Prometheus ${side} selector`);
  }

  /** The queries of one side, by what they measure. */
  queries(context: ReleaseTargetContext, side: Side): Record<string, string> {
    const selector = this.selector(context, side);
    return Object.fromEntries(Object.entries(queryTemplates(this.options)).map(([k, q]) => [k, fill(q, { selector })]));
  }

  async getSample(context: ReleaseTargetContext, interval: { from: Date; to: Date }): Promise<MetricSample> {
    if (this.batcher) {
      const canary = equalityMatchers(this.selector(context, 'canary'));
      const baseline = equalityMatchers(this.selector(context, 'baseline'));
      if (canary && baseline) return this.batcher.sample(context, interval, { canary, baseline });
    }
    return this.sampleAlone(context, interval);
  }

  prepareSamples(contexts: ReleaseTargetContext[], to: Date): void {
    if (!this.batcher) return;
    const sides = [];
    for (const context of contexts) {
      try {
        const canary = equalityMatchers(this.selector(context, 'canary'));
        const baseline = equalityMatchers(this.selector(context, 'baseline'));
        if (canary && baseline) sides.push({ canary, baseline });
      } catch {
        // A selector that fails its check: that release's getSample reports it.
      }
    }
    this.batcher.prepare(sides, to);
  }

  /** One release's sample in queries of its own: each side's queries at both ends of the interval. */
  private async sampleAlone(context: ReleaseTargetContext, interval: { from: Date; to: Date }): Promise<MetricSample> {
    const t0 = interval.from.getTime() / 1000;
    const t1 = interval.to.getTime() / 1000;
    const step = Math.max(0.001, t1 - t0);
    const side = async (name: Side): Promise<TrafficStats> => {
      const queries = this.queries(context, name);
      const results = await Promise.all(
        Object.entries(queries).map(async ([key, query]) => [key, await this.client.queryRange(query, t0, t1, step)] as const),
      );
      return this.sideStats(results, t0, t1);
    };
    const [canary, baseline] = await Promise.all([side('canary'), side('baseline')]);
    if (canary.requests === 0 && baseline.requests === 0) {
      this.logger?.debug(`No requests in Prometheus for ${context.entityRef} between ${interval.from.toISOString()} and ${interval.to.toISOString()}`);
    }
    return { from: interval.from.toISOString(), to: interval.to.toISOString(), canary, baseline };
  }

  /** A side's statistics from its queries' series (by what each query measures), differenced over `[t0, t1]`. */
  private sideStats(results: ReadonlyArray<readonly [string, RangeSeries[]]>, t0: number, t1: number): TrafficStats {
    const stats = emptyTrafficStats();
    for (const [key, series] of results) {
      if (key === 'latencyBuckets') {
        const latency = histogramFromBuckets(increasesBy(series, t0, t1, 'le'), this.options.latencyUnit);
        if (latency) stats.latency = latency;
        continue;
      }
      const total = Math.round(increasesBy(series, t0, t1).get('') ?? 0);
      if (key === 'requests') stats.requests = total;
      else if (key === 'errors') stats.errors = total;
      else stats.counters = { ...stats.counters, [key.slice('counter:'.length)]: total };
    }
    stats.errors = Math.min(stats.errors, stats.requests);
    return stats;
  }

  /**
   * The whole service (the `service` selector) in buckets: one range query per metric of the
   * summed counters at each bucket edge, differenced (a drop of the sum counts as a reset).
   */
  async getHistory(
    context: ReleaseTargetContext,
    range: { from: Date; to: Date; bucketSeconds: number },
  ): Promise<HistoryBucket[]> {
    const step = range.bucketSeconds;
    const start = Math.ceil(range.from.getTime() / 1000 / step) * step;
    const end = Math.floor(range.to.getTime() / 1000 / step) * step;
    if (end <= start) return [];
    const queries = this.queries(context, 'service');
    const entries = await Promise.all(
      Object.entries(queries).map(async ([key, query]) => {
        const summed = key === 'latencyBuckets' ? `sum by (le) (${query})` : `sum(${query})`;
        return [key, await this.client.queryRange(summed, start, end, step)] as const;
      }),
    );
    const buckets = new Map<number, TrafficStats>();
    const bucketAt = (t: number) => {
      let stats = buckets.get(t);
      if (!stats) buckets.set(t, (stats = emptyTrafficStats()));
      return stats;
    };
    const latencyByTime = new Map<number, Map<string, number>>();
    for (const [key, series] of entries) {
      for (const s of series) {
        const points = [...s.values].sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < points.length; i++) {
          const [t, v] = points[i];
          const [tPrevious, vPrevious] = points[i - 1];
          if (t - tPrevious > step * 1.5) continue; // a gap: the increase is not this bucket's
          const increase = counterIncrease(Number(vPrevious), Number(v));
          const stats = bucketAt(tPrevious);
          if (key === 'requests') stats.requests = Math.round(increase);
          else if (key === 'errors') stats.errors = Math.round(increase);
          else if (key === 'latencyBuckets') {
            const byLe = latencyByTime.get(tPrevious) ?? new Map<string, number>();
            byLe.set(s.metric.le ?? '', increase);
            latencyByTime.set(tPrevious, byLe);
          } else {
            stats.counters = { ...stats.counters, [key.slice('counter:'.length)]: Math.round(increase) };
          }
        }
      }
    }
    for (const [t, byLe] of latencyByTime) {
      const latency = histogramFromBuckets(byLe, this.options.latencyUnit);
      if (latency) bucketAt(t).latency = latency;
    }
    return [...buckets.entries()]
      .filter(([, stats]) => stats.requests > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([t, stats]) => ({
        from: new Date(t * 1000).toISOString(),
        to: new Date((t + step) * 1000).toISOString(),
        stats: { ...stats, errors: Math.min(stats.errors, stats.requests) },
      }));
  }
}
