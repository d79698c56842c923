import { MetricSample, TrafficStats } from '@release-pilot/plugin-releases-common';
import { ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { PrometheusClient, RangeSeries } from './PrometheusClient';

/** One `label="value"` matcher of a selector. */
interface Matcher {
  label: string;
  value: string;
}

/** A selector's matchers when every one is an equality (`label="value"`), else undefined. */
export function equalityMatchers(selector: string): Matcher[] | undefined {
  const matchers: Matcher[] = [];
  for (const part of selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*) *(=~|!~|!=|=) *"([^"]*)"/g)) {
    if (part[2] !== '=') return undefined;
    matchers.push({ label: part[1], value: part[3] });
  }
  return matchers.length ? matchers : undefined;
}

/**
 * A query template that selects raw series (`metric{${selector}, more matchers}`): its series keep
 * the selector's labels, so one query for many selectors can be split again by those labels.
 * Undefined for anything else (an aggregation, a function), which is never batched.
 */
export function batchableTemplate(template: string): { metric: string; rest: string } | undefined {
  const match = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\{\$\{selector\}((?:\s*,[^{}]*)?)\}\s*$/.exec(template);
  return match ? { metric: match[1], rest: match[2] } : undefined;
}

/** A value inside a PromQL regex in a double-quoted string: RE2's metacharacters escaped, the backslash itself escaped for the string. */
function regexValue(value: string): string {
  return value.replace(/[.*+?^$()|[\]\\]/g, c => `\\\\${c}`);
}

/** The union of several equality selectors with the same labels: `label="v"` or `label=~"v1|v2"` per label. */
export function unionSelector(selectors: Matcher[][]): string {
  const values = new Map<string, Set<string>>();
  for (const selector of selectors) {
    for (const { label, value } of selector) values.set(label, (values.get(label) ?? new Set()).add(value));
  }
  return [...values.entries()]
    .map(([label, set]) => (set.size === 1 ? `${label}="${[...set][0]}"` : `${label}=~"${[...set].map(regexValue).join('|')}"`))
    .join(',');
}

const matches = (series: RangeSeries, selector: Matcher[]) => selector.every(m => (series.metric[m.label] ?? '') === m.value);

interface Pending {
  context: ReleaseTargetContext;
  interval: { from: Date; to: Date };
  sides: { canary: Matcher[]; baseline: Matcher[] };
  resolve: (sample: MetricSample) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches the samples of many releases into one query per metric: the getSample calls that arrive
 * within `windowMs` whose selectors are equalities over the same labels are asked in one query whose
 * selector is their union (`service=~"a|b|c",track=~"canary|stable"`), for the raw points of every
 * series over all their intervals; each release's sides are its own series again, split by their
 * labels, read at its own interval's ends. A release's tick then costs a fraction of one query
 * instead of two per metric. A failing query fails every sample of its batch, as each would have
 * failed on its own.
 */
export class SampleBatcher {
  readonly #pending: Pending[] = [];
  #timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly client: PrometheusClient,
    /** The query templates, by what they measure (all batchable). */
    private readonly templates: Record<string, { metric: string; rest: string }>,
    /** Turns a side's query results into its statistics. */
    private readonly toStats: (results: Array<readonly [string, RangeSeries[]]>, t0: number, t1: number) => TrafficStats,
    private readonly windowMs: number,
    /** How many releases one query asks for at most. */
    private readonly maxReleases: number,
    /** How far back before an interval's start a counter's last point may be (Prometheus' lookback is 5 min). */
    private readonly lookbackSeconds: number,
    /** A release alone in its batch is asked as without batching. */
    private readonly alone: (context: ReleaseTargetContext, interval: { from: Date; to: Date }) => Promise<MetricSample>,
  ) {}

  sample(context: ReleaseTargetContext, interval: { from: Date; to: Date }, sides: Pending['sides']): Promise<MetricSample> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ context, interval, sides, resolve, reject });
      if (this.#pending.length >= this.maxReleases) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    const groups = new Map<string, Pending[]>();
    for (const entry of batch) {
      const labels = (m: Matcher[]) => m.map(x => x.label).sort().join(',');
      const key = `${labels(entry.sides.canary)}|${labels(entry.sides.baseline)}`;
      groups.set(key, [...(groups.get(key) ?? []), entry]);
    }
    for (const group of groups.values()) {
      if (group.length === 1) this.alone(group[0].context, group[0].interval).then(group[0].resolve, group[0].reject);
      else this.run(group).catch(error => group.forEach(entry => entry.reject(error)));
    }
  }

  private async run(group: Pending[]) {
    // One instant query of a range vector per metric: every series' raw points from a lookback before
    // the earliest interval's start to the latest one's end; each release's counters are then read
    // at its own interval's ends, as Prometheus reads an instant vector (the last point at or before).
    const end = Math.max(...group.map(entry => entry.interval.to.getTime())) / 1000;
    const start = Math.min(...group.map(entry => entry.interval.from.getTime())) / 1000;
    const range = Math.ceil(end - start + this.lookbackSeconds);
    const union = unionSelector(group.flatMap(entry => [entry.sides.canary, entry.sides.baseline]));
    const results = await Promise.all(
      Object.entries(this.templates).map(async ([key, { metric, rest }]) => [key, await this.client.queryRaw(`${metric}{${union}${rest}}[${range}s]`, end)] as const),
    );
    for (const entry of group) {
      const t0 = entry.interval.from.getTime() / 1000;
      const t1 = entry.interval.to.getTime() / 1000;
      // Each of the side's series as two points, its values at t0 and t1 (where it had one).
      const atEnds = (series: RangeSeries): RangeSeries => ({
        metric: series.metric,
        values: [valueAt(series, t0, this.lookbackSeconds), valueAt(series, t1, this.lookbackSeconds)].filter((p): p is [number, string] => !!p),
      });
      const side = (selector: Matcher[]) =>
        this.toStats(results.map(([key, series]) => [key, series.filter(s => matches(s, selector)).map(atEnds)] as const), t0, t1);
      entry.resolve({ from: entry.interval.from.toISOString(), to: entry.interval.to.toISOString(), canary: side(entry.sides.canary), baseline: side(entry.sides.baseline) });
    }
  }
}

/** A series' value at `t` as an instant query reads it: its last point at or before `t`, within the lookback; stamped `t`. */
function valueAt(series: RangeSeries, t: number, lookbackSeconds: number): [number, string] | undefined {
  let found: [number, string] | undefined;
  for (const [time, value] of series.values) {
    if (time <= t && time > t - lookbackSeconds && (!found || time >= found[0])) found = [time, value];
  }
  return found && [t, found[1]];
}
