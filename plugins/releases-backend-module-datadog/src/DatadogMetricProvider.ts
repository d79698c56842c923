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
import { DatadogOptions } from './config';
import { DatadogClient, DatadogSeries } from './DatadogClient';
import { histogramFromPercentiles } from './percentiles';

/** Annotations an entity overrides the target's scopes with. */
export const DATADOG_SCOPE_ANNOTATIONS = {
  canary: 'release-pilot.io/datadog-canary-scope',
  baseline: 'release-pilot.io/datadog-baseline-scope',
  service: 'release-pilot.io/datadog-service-scope',
} as const;

type Side = keyof typeof DATADOG_SCOPE_ANNOTATIONS;

const TAG = '!?[a-z][a-z0-9_./-]*:[a-z0-9_./:-]+';
/**
 * A Datadog tag scope: `key:value` tags (a `!` before one excludes it), comma-separated, in the
 * characters Datadog keeps in a tag. No brace, space or quote, so a scope cannot close the query's
 * braces or start another query.
 */
export const DATADOG_SCOPE = patternRule(
  new RegExp(`^(?=[^]{1,512}$)${TAG}(?:,${TAG})*$`),
  'Datadog tags key:value (lowercase letters, digits and _ . / - :; !key:value excludes), comma-separated, at most 512 characters',
);

/** How the entity annotations this provider reads must look, with the target's scopes as defaults; each names an entity's own metrics. */
export function datadogAnnotationRules(scopes: DatadogOptions['scopes']): AnnotationRule[] {
  return (Object.keys(DATADOG_SCOPE_ANNOTATIONS) as Side[]).map(side => ({
    annotation: DATADOG_SCOPE_ANNOTATIONS[side],
    rule: DATADOG_SCOPE,
    default: scopes[side],
    claim: `datadog-${side}-scope`,
  }));
}

/** A value as Datadog keeps it in a tag: lowercase, other characters as `_` (`2.1.0+build` is `2.1.0_build`). */
export function asTagValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_./:-]/g, '_');
}

/** One query of a side: what it measures (`requests`, `errors`, `latency`, `counter:<name>`) and, for a percentile, which. */
interface Asked {
  side: Side;
  key: string;
  percentile?: number;
  query: string;
}

/** The points of `series` within `[fromMs, toMs)`, summed (nulls skipped). */
function sumIn(series: DatadogSeries[], fromMs: number, toMs: number): number {
  let sum = 0;
  for (const s of series) for (const [t, v] of s.points) if (v !== null && t >= fromMs && t < toMs) sum += v;
  return sum;
}

function tagValue(tags: string[], key: string): string | undefined {
  const tag = tags.find(t => t.startsWith(`${key}:`));
  return tag?.slice(key.length + 1);
}

/**
 * Canary and baseline statistics from Datadog's metrics query API. Counts (`.as_count()` queries of
 * requests, errors and named counters) are summed over the points whose time falls in the sample's
 * interval, so consecutive ticks add up without a gap or an overlap. Latency comes from a histogram's
 * buckets (OpenMetrics `upper_bound`) or is rebuilt from a distribution's percentiles. Every sample
 * asks for its interval `delaySeconds` earlier, as Datadog's points arrive late. A side without
 * series reports zero requests ("no data": the judge is inconclusive and the step waits); an
 * unreachable or rate-limiting Datadog is a provider error.
 */
export class DatadogMetricProvider implements MetricProvider {
  readonly annotationRules: readonly AnnotationRule[];

  constructor(
    private readonly options: DatadogOptions,
    private readonly client: DatadogClient,
  ) {
    this.annotationRules = datadogAnnotationRules(options.scopes);
  }

  static create(options: DatadogOptions): DatadogMetricProvider {
    return new DatadogMetricProvider(options, new DatadogClient(options));
  }

  /** A side's tag scope: the entity's annotation, else the target's, filled in as Datadog tags and checked. */
  scope(context: ReleaseTargetContext, side: Side): string {
    const template = context.annotations[DATADOG_SCOPE_ANNOTATIONS[side]] ?? this.options.scopes[side];
    const values = Object.fromEntries(Object.entries(entityPlaceholders(context.entityRef, context.version)).map(([k, v]) => [k, asTagValue(v)]));
    return checkedValue(fillPlaceholders(template, values), DATADOG_SCOPE, `The Datadog ${side} scope`);
  }

  /** Every query of a side, by what it measures. */
  queries(context: ReleaseTargetContext, side: Side): Asked[] {
    const scope = this.scope(context, side);
    const { requests, errors, latency, counters } = this.options.queries;
    const fill = (q: string) => fillPlaceholders(q, { scope });
    const asked: Asked[] = [
      { side, key: 'requests', query: fill(requests) },
      { side, key: 'errors', query: fill(errors) },
      ...Object.entries(counters).map(([name, q]) => ({ side, key: `counter:${name}`, query: fill(q) })),
    ];
    if ('buckets' in latency) asked.push({ side, key: 'latency', query: fill(latency.buckets) });
    else for (const p of latency.percentiles) asked.push({ side, key: 'latency', percentile: p, query: `p${p}:${latency.distribution}{${scope}}` });
    return asked;
  }

  async getSample(context: ReleaseTargetContext, interval: { from: Date; to: Date }): Promise<MetricSample> {
    const delayMs = this.options.delaySeconds * 1000;
    const fromMs = interval.from.getTime() - delayMs;
    const toMs = interval.to.getTime() - delayMs;
    const asked = [...this.queries(context, 'canary'), ...this.queries(context, 'baseline')];
    // A rollup's point is stamped at its start, which may lie before the interval: ask from a little earlier.
    const answers = await this.client.query(asked.map(a => a.query), fromMs / 1000 - 60, toMs / 1000);
    const side = (name: Side) => this.stats(asked, answers, name, fromMs, toMs);
    return { from: interval.from.toISOString(), to: interval.to.toISOString(), canary: side('canary'), baseline: side('baseline') };
  }

  /** The whole service (the `service` scope) in buckets of `bucketSeconds`, from one request. */
  async getHistory(context: ReleaseTargetContext, range: { from: Date; to: Date; bucketSeconds: number }): Promise<HistoryBucket[]> {
    const stepMs = range.bucketSeconds * 1000;
    const start = Math.ceil(range.from.getTime() / stepMs) * stepMs;
    const end = Math.floor(range.to.getTime() / stepMs) * stepMs;
    if (end <= start) return [];
    const asked = this.queries(context, 'service');
    const answers = await this.client.query(asked.map(a => a.query), start / 1000, end / 1000);
    const buckets: HistoryBucket[] = [];
    for (let t = start; t < end; t += stepMs) {
      const stats = this.stats(asked, answers, 'service', t, t + stepMs);
      if (stats.requests > 0) buckets.push({ from: new Date(t).toISOString(), to: new Date(t + stepMs).toISOString(), stats });
    }
    return buckets;
  }

  /** A side's statistics from the answers to its queries, over `[fromMs, toMs)`. */
  private stats(asked: Asked[], answers: DatadogSeries[][], side: Side, fromMs: number, toMs: number): TrafficStats {
    const stats = emptyTrafficStats();
    const percentiles: Array<{ percentile: number; series: DatadogSeries[] }> = [];
    let requestSeries: DatadogSeries[] = [];
    asked.forEach((a, i) => {
      if (a.side !== side) return;
      const series = answers[i];
      if (a.key === 'requests') {
        requestSeries = series;
        stats.requests = Math.round(sumIn(series, fromMs, toMs));
      } else if (a.key === 'errors') stats.errors = Math.round(sumIn(series, fromMs, toMs));
      else if (a.key.startsWith('counter:')) stats.counters = { ...stats.counters, [a.key.slice('counter:'.length)]: Math.round(sumIn(series, fromMs, toMs)) };
      else if (a.percentile !== undefined) percentiles.push({ percentile: a.percentile, series });
      else stats.latency = this.fromBuckets(series, fromMs, toMs) ?? stats.latency;
    });
    if (percentiles.length > 0) stats.latency = this.fromPercentiles(percentiles, requestSeries, fromMs, toMs) ?? stats.latency;
    stats.errors = Math.min(stats.errors, stats.requests);
    return stats;
  }

  private fromBuckets(series: DatadogSeries[], fromMs: number, toMs: number): TrafficStats['latency'] | undefined {
    const latency = this.options.queries.latency;
    if (!('buckets' in latency)) return undefined;
    const byBound = new Map<string, number>();
    for (const s of series) {
      const bound = tagValue(s.tags, 'upper_bound');
      if (bound === undefined) continue;
      byBound.set(bound, (byBound.get(bound) ?? 0) + sumIn([s], fromMs, toMs));
    }
    if (latency.cumulative) return histogramFromBuckets(byBound, latency.unit);
    // Each bucket counts only its own requests: add them up into the cumulative form.
    const sorted = [...byBound.entries()].map(([b, c]) => ({ b, le: /^\+?inf$/i.test(b) ? Infinity : Number(b), c })).sort((x, y) => x.le - y.le);
    let running = 0;
    return histogramFromBuckets(new Map(sorted.map(({ b, c }) => [b, (running += c)])), latency.unit);
  }

  /** A histogram rebuilt at each point in time from that time's percentiles and requests, summed over the interval. */
  private fromPercentiles(
    percentiles: Array<{ percentile: number; series: DatadogSeries[] }>,
    requestSeries: DatadogSeries[],
    fromMs: number,
    toMs: number,
  ): TrafficStats['latency'] | undefined {
    const latency = this.options.queries.latency;
    if ('buckets' in latency) return undefined;
    const scale = latency.unit === 'seconds' ? 1000 : 1;
    const requestsAt = new Map<number, number>();
    for (const s of requestSeries) for (const [t, v] of s.points) if (v !== null && t >= fromMs && t < toMs) requestsAt.set(t, (requestsAt.get(t) ?? 0) + v);
    const valuesAt = new Map<number, Array<{ quantile: number; ms: number }>>();
    for (const { percentile, series } of percentiles) {
      // One series per percentile (the scope is one group); several would be averaged into one.
      for (const s of series.slice(0, 1)) {
        for (const [t, v] of s.points) {
          if (v === null || t < fromMs || t >= toMs) continue;
          valuesAt.set(t, [...(valuesAt.get(t) ?? []), { quantile: percentile / 100, ms: v * scale }]);
        }
      }
    }
    let total: number[] | undefined;
    for (const [t, values] of valuesAt) {
      const requests = Math.round(requestsAt.get(t) ?? 0);
      if (requests <= 0) continue;
      const counts = histogramFromPercentiles(values, requests, latency.boundsMs);
      total = total ? total.map((c, i) => c + counts[i]) : counts;
    }
    return total && { boundsMs: [...latency.boundsMs], counts: total };
  }
}
