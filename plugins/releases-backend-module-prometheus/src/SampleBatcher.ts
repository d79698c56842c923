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

interface Pending {
  context: ReleaseTargetContext;
  interval: { from: Date; to: Date };
  sides: { canary: Matcher[]; baseline: Matcher[] };
  resolve: (sample: MetricSample) => void;
  reject: (error: unknown) => void;
}

/** A side's series at one moment, by what each query measures. */
type AtMoment = Map<string, RangeSeries[]>;

/**
 * Batches the samples of many releases into one query per metric: the getSample calls that arrive
 * within `windowMs` whose selectors are equalities over the same labels are asked in one query whose
 * selector is their union (`service=~"a|b|c",track=~"canary|stable"`), evaluated at each moment
 * their intervals begin or end (releases ticked at the same moment share them), as each release's
 * own range query evaluates its interval's ends; each release's sides are its own series again,
 * split by their labels.
 *
 * A side's series at its interval's end are kept until its next tick, whose interval begins there:
 * a tick then asks Prometheus for one moment, not two, and consecutive ticks read the same value at
 * the moment they share, so they add up exactly even where a scrape stamped before that moment
 * arrived after it was read. A failing query fails every sample of its batch, as each would have
 * failed on its own.
 */
export class SampleBatcher {
  readonly #pending: Pending[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  /**
   * A side's series at a moment (`selector@ms`): an interval's end, until the next interval begins
   * there, and the moments asked for ahead of a tick (`prepare`), until their release asks.
   */
  readonly #ends = new Map<string, { at: number; series: Promise<AtMoment> }>();
  #sweptAt = -Infinity;

  constructor(
    private readonly client: PrometheusClient,
    /** The query templates, by what they measure (all batchable). */
    private readonly templates: Record<string, { metric: string; rest: string }>,
    /** Turns a side's query results into its statistics. */
    private readonly toStats: (results: Array<readonly [string, RangeSeries[]]>, t0: number, t1: number) => TrafficStats,
    private readonly windowMs: number,
    /** How many releases one query asks for at most. */
    private readonly maxReleases: number,
  ) {}

  sample(context: ReleaseTargetContext, interval: { from: Date; to: Date }, sides: Pending['sides']): Promise<MetricSample> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ context, interval, sides, resolve, reject });
      if (this.#pending.length >= this.maxReleases) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /**
   * A tick's releases, before they ask: each side's series at `to`, for all of them in one query
   * per metric (of at most `maxReleases` releases), kept for their `sample` calls. A failed query
   * fails the samples that take their part of it, as their own would have.
   */
  prepare(sides: Array<Pending['sides']>, to: Date) {
    const t = to.getTime();
    const byLabels = new Map<string, Matcher[][]>();
    for (const entry of sides) {
      for (const selector of [entry.canary, entry.baseline]) {
        if (this.#ends.has(`${id(selector)}@${t}`)) continue;
        const labels = selector.map(m => m.label).sort().join(',');
        byLabels.set(labels, byLabels.get(labels) ?? []).get(labels)!.push(selector);
      }
    }
    for (const selectors of byLabels.values()) {
      for (let i = 0; i < selectors.length; i += 2 * this.maxReleases) {
        const chunk = selectors.slice(i, i + 2 * this.maxReleases);
        const answers = this.atMoment(chunk, t);
        for (const selector of chunk) {
          const series = answers.then(found => found.get(id(selector))!);
          series.catch(() => undefined); // a failure is each sample's, when it asks (and none if it never does)
          this.#ends.set(`${id(selector)}@${t}`, { at: t, series });
        }
      }
    }
  }

  /** Each selector's series at moment `t`, by what each query measures: one query per metric over their union. */
  private async atMoment(selectors: Matcher[][], t: number): Promise<Map<string, AtMoment>> {
    const found = new Map<string, AtMoment>(selectors.map(selector => [id(selector), new Map()]));
    await Promise.all(
      Object.entries(this.templates).map(async ([metric, template]) => {
        const series = await this.client.queryRange(`${template.metric}{${unionSelector(selectors)}${template.rest}}`, t / 1000, t / 1000, 1);
        for (const [selector, own] of splitBySelector(series, selectors)) found.get(id(selector))!.set(metric, own);
      }),
    );
    return found;
  }

  private flush() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    const groups = new Map<string, Pending[]>();
    for (const entry of batch) {
      const labels = (m: Matcher[]) => m.map(x => x.label).sort().join(',');
      const key = `${labels(entry.sides.canary)}|${labels(entry.sides.baseline)}`;
      groups.set(key, groups.get(key) ?? []).get(key)!.push(entry);
    }
    for (const group of groups.values()) this.run(group).catch(error => group.forEach(entry => entry.reject(error)));
  }

  private async run(group: Pending[]) {
    // Each side's series at each end of its interval: kept from its last tick or asked for ahead of
    // this one, else asked for now. One query per metric and moment, over the union of the selectors
    // that need it, evaluated at that moment alone as a release's own range query evaluates its
    // interval's ends. Each series is evaluated on its own, so a side's series are exactly those its
    // own query gets, split out by their labels.
    const found = new Map<string, Promise<AtMoment>>();
    const needed = new Map<number, Matcher[][]>();
    const asked = new Set<string>();
    for (const entry of group) {
      for (const selector of [entry.sides.canary, entry.sides.baseline]) {
        for (const t of [entry.interval.from.getTime(), entry.interval.to.getTime()]) {
          const key = `${id(selector)}@${t}`;
          if (found.has(key) || asked.has(key)) continue;
          const kept = this.#ends.get(key);
          if (kept) {
            found.set(key, kept.series);
            this.#ends.delete(key);
          } else {
            asked.add(key);
            needed.set(t, needed.get(t) ?? []).get(t)!.push(selector);
          }
        }
      }
    }
    for (const [t, selectors] of needed) {
      const answers = this.atMoment(selectors, t);
      for (const selector of selectors) found.set(`${id(selector)}@${t}`, answers.then(all => all.get(id(selector))!));
    }
    const moments = new Map(await Promise.all([...found].map(async ([key, series]) => [key, await series] as const)));
    this.forgetBefore(Math.max(...group.map(entry => entry.interval.to.getTime())) - 300_000);
    for (const entry of group) {
      const [from, to] = [entry.interval.from.getTime(), entry.interval.to.getTime()];
      const side = (selector: Matcher[]) => {
        const own = id(selector);
        const [start, end] = [moments.get(`${own}@${from}`)!, moments.get(`${own}@${to}`)!];
        this.#ends.set(`${own}@${to}`, { at: to, series: Promise.resolve(end) });
        return this.toStats(Object.keys(this.templates).map(metric => [metric, joinMoments(start.get(metric)!, end.get(metric)!)] as const), from / 1000, to / 1000);
      };
      entry.resolve({ from: entry.interval.from.toISOString(), to: entry.interval.to.toISOString(), canary: side(entry.sides.canary), baseline: side(entry.sides.baseline) });
    }
  }

  /** Drops the ends kept for releases that have not ticked again for a while (ended, or on another replica); a sweep at most every 10 s, not every batch. */
  private forgetBefore(at: number) {
    if (at - this.#sweptAt < 10_000) return;
    this.#sweptAt = at;
    for (const [key, kept] of this.#ends) if (kept.at < at) this.#ends.delete(key);
  }
}

/** A selector's key: its matchers as written. */
function id(selector: Matcher[]): string {
  return selector.map(m => `${m.label}=${m.value}`).join(',');
}

/** Each selector's own series among a union query's, by the values of the selectors' labels. */
function splitBySelector(series: RangeSeries[], selectors: Matcher[][]): Array<[Matcher[], RangeSeries[]]> {
  const indexes = new Map<string, Map<string, RangeSeries[]>>();
  return selectors.map(selector => {
    const labels = selector.map(m => m.label).join('\n');
    let index = indexes.get(labels);
    if (!index) {
      index = new Map();
      for (const s of series) {
        const values = selector.map(m => s.metric[m.label] ?? '').join('\n');
        index.set(values, index.get(values) ?? []).get(values)!.push(s);
      }
      indexes.set(labels, index);
    }
    return [selector, index.get(selector.map(m => m.value).join('\n')) ?? []];
  });
}

/** A side's series at an interval's two ends as one range query returns them: each series with its points at both (where it had one). */
function joinMoments(start: RangeSeries[], end: RangeSeries[]): RangeSeries[] {
  // Prometheus names a series' labels in the same (sorted) order in every answer.
  const seriesKey = (series: RangeSeries) => {
    let key = '';
    for (const [label, value] of Object.entries(series.metric)) key += `${label}\u0000${value}\u0001`;
    return key;
  };
  const byLabels = new Map<string, RangeSeries>(start.map(s => [seriesKey(s), { metric: s.metric, values: [...s.values] }]));
  for (const s of end) {
    const key = seriesKey(s);
    const joined = byLabels.get(key);
    if (joined) joined.values.push(...s.values);
    else byLabels.set(key, s);
  }
  return [...byLabels.values()];
}
