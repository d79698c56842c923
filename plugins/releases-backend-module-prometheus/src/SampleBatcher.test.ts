import { ConfigReader } from '@backstage/config';
import { readPrometheusOptions } from './config';
import { PrometheusClient, PrometheusError } from './PrometheusClient';
import { PrometheusMetricProvider } from './PrometheusMetricProvider';
import { batchableTemplate, equalityMatchers, unionSelector } from './SampleBatcher';

const from = new Date('2026-12-06T10:00:00.000Z');
const to = new Date('2026-12-06T10:00:01.000Z');
const t0 = from.getTime() / 1000;
const t1 = to.getTime() / 1000;

/**
 * Raw series of a fleet, scraped every 0.25 s from 30 s before `from` to 2 s after `to`: per service
 * and track, requests by code and latency buckets, each counter growing at its own rate.
 */
function fleet(services: string[]) {
  const series: Array<{ name: string; labels: Record<string, string>; points: Array<[number, number]> }> = [];
  const counter = (name: string, labels: Record<string, string>, perSecond: number, base: number) => {
    const points: Array<[number, number]> = [];
    for (let t = t0 - 30; t <= t1 + 2; t += 0.25) points.push([t, Math.floor(base + perSecond * (t - t0 + 30))]);
    series.push({ name, labels, points });
  };
  services.forEach((service, i) => {
    for (const [j, track] of ['canary', 'stable'].entries()) {
      const rps = 100 + 37 * i + 11 * j;
      counter('http_requests_total', { service, track, code: '200' }, rps, 1000 * i);
      counter('http_requests_total', { service, track, code: '500' }, 1 + i + 3 * j, 5);
      counter('http_request_duration_seconds_bucket', { service, track, le: '0.1' }, rps * 0.9 - i, 0);
      counter('http_request_duration_seconds_bucket', { service, track, le: '+Inf' }, rps + i + 3 * j, 0);
    }
  });
  return series;
}

/**
 * A fetch that answers `query_range` like Prometheus: each matching series read at `start` and `end`
 * (its last point at or before, within 5 min). It records each query with its range.
 */
function fakePrometheus(series: ReturnType<typeof fleet>, queries: string[], status = 200) {
  return (async (url: string, init: RequestInit) => {
    const params = new URLSearchParams(String(init.body));
    const query = params.get('query')!;
    queries.push(`${query} ${Number(params.get('start'))}-${Number(params.get('end'))}`);
    if (status !== 200) return new Response(JSON.stringify({ status: 'error', errorType: 'internal', error: 'boom' }), { status });
    const [, name, body] = /(\w+)\{([^{}]*)\}/.exec(query)!;
    const matchers = [...body.matchAll(/(\w+)(=~|=)"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, raw]) => {
      const value = raw.replace(/\\(.)/g, '$1');
      return (labels: Record<string, string>) => (op === '=' ? labels[label] === value : new RegExp(`^(?:${value})$`).test(labels[label] ?? ''));
    });
    const matching = series.filter(s => s.name === name && matchers.every(m => m(s.labels)));
    const at = (s: (typeof series)[number], t: number) => s.points.filter(([time]) => time <= t && time > t - 300).at(-1);
    expect(url).toBe('http://prom:9090/api/v1/query_range');
    const ends = [Number(params.get('start')), Number(params.get('end'))];
    const result = matching.map(s => ({ metric: s.labels, values: ends.flatMap(t => (at(s, t) ? [[t, String(at(s, t)![1])]] : [])) }));
    return new Response(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }), { status: 200 });
  }) as unknown as typeof fetch;
}

function provider(series: ReturnType<typeof fleet>, queries: string[], extra: Record<string, unknown> = {}, status = 200) {
  const options = readPrometheusOptions(new ConfigReader({ type: 'prometheus', baseUrl: 'http://prom:9090', ...extra }), 'releases.targets.vm.metrics');
  return new PrometheusMetricProvider(options, new PrometheusClient(options, fakePrometheus(series, queries, status)));
}

const context = (name: string, annotations: Record<string, string> = {}) => ({ entityRef: `component:default/${name}`, releaseId: name, version: '2.0.0', annotations });

describe('SampleBatcher', () => {
  const services = ['checkout', 'search', 'payments', 'cart.v2', 'ads'];

  it('asks one query per metric and moment for many releases, and each gets exactly its own sample', async () => {
    const series = fleet(services);
    const batched: string[] = [];
    const alone: string[] = [];
    const shared = provider(series, batched);
    // Four releases ticked at the same moment share their interval; the last, a tick behind, has its own.
    const interval = (i: number) => (i < 4 ? { from, to } : { from: new Date(from.getTime() - 1000), to });
    const together = await Promise.all(services.map((s, i) => shared.getSample(context(s), interval(i))));
    const unbatched = provider(series, alone, { batch: { windowMs: 0 } });
    const expected = await Promise.all(services.map((s, i) => unbatched.getSample(context(s), interval(i))));

    expect(together).toEqual(expected);
    expect(alone).toHaveLength(30);
    // One query per metric and moment, over the selectors that need it: the shared interval's two ends and the late release's start.
    const four = 'service=~"checkout|search|payments|cart\\\\.v2",track=~"canary|stable"';
    const five = 'service=~"checkout|search|payments|cart\\\\.v2|ads",track=~"canary|stable"';
    const ads = 'service="ads",track=~"canary|stable"';
    const metrics = (union: string, t: number) =>
      [`http_requests_total{${union}}`, `http_requests_total{${union},code=~"5.."}`, `http_request_duration_seconds_bucket{${union}}`].map(q => `${q} ${t}-${t}`);
    expect(batched).toEqual([...metrics(four, t0), ...metrics(five, t1), ...metrics(ads, t0 - 1)]);
    // Each release's figures are its own, not the batch's: different for each service and side.
    expect(new Set(together.map(s => s.canary.requests)).size).toBe(services.length);
    expect(together[1].canary).toEqual({ ...expected[1].canary });
    expect(together[1].canary.requests).not.toBe(together[1].baseline.requests);
  });

  it("keeps a side's series at its interval's end for its next tick: one moment asked, and consecutive ticks add up exactly when a scrape lands late", async () => {
    const t2 = t1 + 1;
    const series = ['checkout', 'search'].flatMap(service =>
      ['canary', 'stable'].map(track => ({
        name: 'http_requests_total',
        labels: { service, track, code: '200' },
        points: [[t0 - 0.5, 100], [t1 - 0.5, 200]] as Array<[number, number]>,
      })),
    );
    const queries: string[] = [];
    const batched = provider(series, queries);
    const unbatched = provider(series, [], { batch: { windowMs: 0 } });
    const tick = (p: PrometheusMetricProvider, a: number, b: number) =>
      Promise.all(['checkout', 'search'].map(s => p.getSample(context(s), { from: new Date(a * 1000), to: new Date(b * 1000) })));

    const first = await tick(batched, t0, t1);
    const firstAlone = await tick(unbatched, t0, t1);
    // A scrape stamped before t1 arrives after t1 was read, then the next one.
    for (const s of series) s.points.push([t1 - 0.1, 250], [t2 - 0.5, 400]);
    queries.length = 0;
    const second = await tick(batched, t1, t2);
    const secondAlone = await tick(unbatched, t1, t2);

    expect(queries.every(q => q.endsWith(` ${t2}-${t2}`))).toBe(true);
    expect(queries).toHaveLength(3);
    // Every request from the value at t0 (100) to the one at t2 (400) is counted once.
    expect(first[0].canary.requests + second[0].canary.requests).toBe(300);
    expect(first[1].baseline.requests + second[1].baseline.requests).toBe(300);
    // Reading t1 again, as separate queries do, loses the late scrape's 50 between the two ticks.
    expect(firstAlone[0].canary.requests + secondAlone[0].canary.requests).toBe(250);
  });

  it("asks about a tick's releases ahead, in one query per metric of at most maxReleases releases, however their turns come; each gets exactly its own sample", async () => {
    const series = fleet(services);
    const contexts = services.map(s => context(s));
    for (const maxReleases of [200, 2]) {
      const queries: string[] = [];
      const p = provider(series, queries, { batch: { maxReleases } });
      // A first tick ends at t0 (kept for the next); the next tick's releases then ask one after another, each in a window of its own.
      await Promise.all(contexts.map(c => p.getSample(c, { from: new Date(from.getTime() - 1000), to: from })));
      queries.length = 0;
      p.prepareSamples(contexts, to);
      const samples = [];
      for (const c of contexts) samples.push(await p.getSample(c, { from, to }));

      const unbatched = provider(series, [], { batch: { windowMs: 0 } });
      expect(samples).toEqual(await Promise.all(contexts.map(c => unbatched.getSample(c, { from, to }))));
      expect(queries.every(q => q.endsWith(` ${t1}-${t1}`))).toBe(true);
      // 200: all five releases in each metric's one query; 2: three queries per metric (2, 2 and 1 releases).
      expect(queries).toHaveLength(maxReleases === 200 ? 3 : 9);
      const first = maxReleases === 200 ? 'checkout|search|payments|cart\\\\.v2|ads' : 'checkout|search';
      expect(queries[0]).toBe(`http_requests_total{service=~"${first}",track=~"canary|stable"} ${t1}-${t1}`);
    }
    // Without the hint each release's turn is a window (and a query per metric) of its own.
    const queries: string[] = [];
    const p = provider(series, queries);
    await Promise.all(contexts.map(c => p.getSample(c, { from: new Date(from.getTime() - 1000), to: from })));
    queries.length = 0;
    for (const c of contexts) await p.getSample(c, { from, to });
    expect(queries).toHaveLength(15);
  });

  it('a query asked ahead that fails fails the samples that take their part of it, and is no unhandled rejection when nobody asks', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const p = provider(fleet(services), [], {}, 500);
      p.prepareSamples(services.map(s => context(s)), to);
      await expect(p.getSample(context('checkout'), { from, to })).rejects.toBeInstanceOf(PrometheusError);
      await new Promise(resolve => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('asks on its own for a release whose selector is not an equality, and never batches an aggregating query', async () => {
    const series = fleet(services);
    const queries: string[] = [];
    const p = provider(series, queries);
    await Promise.all([
      p.getSample(context('checkout'), { from, to }),
      p.getSample(context('search'), { from, to }),
      p.getSample(context('payments', { 'release-pilot.io/prometheus-canary-selector': 'service=~"payments",track="canary"' }), { from, to }),
    ]);
    expect(queries.filter(q => q.includes('payments'))).toHaveLength(6);
    expect(queries.filter(q => q.includes('checkout|search'))).toHaveLength(6);

    const aggregating: string[] = [];
    const q = provider(series, aggregating, { queries: { requests: 'sum without (instance) (http_requests_total{${selector}})' } });
    expect(batchableTemplate('sum without (instance) (http_requests_total{${selector}})')).toBeUndefined();
    await Promise.all([q.getSample(context('checkout'), { from, to }), q.getSample(context('search'), { from, to })]);
    expect(aggregating).toHaveLength(12);
  });

  it('fails every sample of a batch when its query fails: each release gets the provider error, none a sample', async () => {
    const p = provider(fleet(services), [], {}, 500);
    const results = await Promise.allSettled(services.map(s => p.getSample(context(s), { from, to })));
    expect(results.map(r => r.status)).toEqual(services.map(() => 'rejected'));
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PrometheusError);
  });

  it('reads equality selectors and writes their union', () => {
    expect(equalityMatchers('service="a",track="canary"')).toEqual([{ label: 'service', value: 'a' }, { label: 'track', value: 'canary' }]);
    expect(equalityMatchers('service=~"a",track="canary"')).toBeUndefined();
    expect(unionSelector([[{ label: 'service', value: 'a' }], [{ label: 'service', value: 'b+c' }]])).toBe('service=~"a|b\\\\+c"');
    expect(batchableTemplate('http_requests_total{${selector},code=~"5.."}')).toEqual({ metric: 'http_requests_total', rest: ',code=~"5.."' });
  });
});
