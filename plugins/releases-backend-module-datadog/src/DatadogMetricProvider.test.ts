import { ConfigReader } from '@backstage/config';
import { annotationProblems } from '@release-pilot/plugin-releases-node';
import { readDatadogOptions } from './config';
import { DatadogClient, DatadogError } from './DatadogClient';
import { DatadogMetricProvider } from './DatadogMetricProvider';
import { histogramFromPercentiles } from './percentiles';
import { DatadogApiDouble, queryAnswer, Received, series } from './__testUtils__/DatadogApiDouble';

const context = { entityRef: 'component:default/checkout', releaseId: 'r1', version: '2.1.0+B1', annotations: {} };

const T0 = Date.parse('2026-12-07T10:00:00Z');
/** The tick's interval: one second, 30 s after the requests it counts (delaySeconds). */
const interval = (second: number) => ({ from: new Date(T0 + second * 1000), to: new Date(T0 + (second + 1) * 1000) });
/** A point stamped `second` seconds after T0, minus the 30 s delay, i.e. counted by the tick `interval(second)`. */
const at = (second: number) => T0 + second * 1000 - 30_000;

let api: DatadogApiDouble;
let site: string;
beforeEach(async () => {
  api = new DatadogApiDouble();
  site = await api.start();
});
afterEach(() => api.stop());

function provider(extra: object = {}, now: () => number = Date.now) {
  const options = readDatadogOptions(new ConfigReader({ type: 'datadog', site, apiKey: 'api-key-1', applicationKey: 'app-key-1', ...extra }), 'releases.targets.dd.metrics');
  return { provider: new DatadogMetricProvider(options, new DatadogClient(options, fetch, now)), options };
}

/** The error a call fails with (the test fails if it does not). */
const failure = (call: Promise<unknown>): Promise<Error> =>
  call.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => error,
  );

const CANARY = 'service:checkout,version:2.1.0_b1';
const BASELINE = 'service:checkout,!version:2.1.0_b1';
const DEFAULT_QUERIES = (scope: string) => [
  `sum:trace.http.request.hits{${scope}}.as_count()`,
  `sum:trace.http.request.errors{${scope}}.as_count()`,
  ...[50, 75, 90, 95, 99].map(p => `p${p}:trace.http.request{${scope}}`),
];

describe('DatadogMetricProvider', () => {
  it('asks once per sample, exactly as the metrics query API expects: the interval 30 s earlier, every query of both sides, the keys as headers', async () => {
    const { provider: datadog } = provider();
    await datadog.getSample(context, interval(0));
    expect(api.received).toEqual<Received[]>([
      {
        method: 'GET',
        path: '/api/v1/query',
        params: {
          from: String((T0 - 30_000) / 1000 - 60),
          to: String((T0 + 1000 - 30_000) / 1000),
          query: [...DEFAULT_QUERIES(CANARY), ...DEFAULT_QUERIES(BASELINE)].join(','),
        },
        apiKey: 'api-key-1',
        applicationKey: 'app-key-1',
      },
    ]);
  });

  it('counts the points of each tick once: requests, errors and counters summed by query_index, latency rebuilt from the percentiles', async () => {
    const { provider: datadog } = provider({ queries: { counters: { orders: 'sum:shop.orders{${scope}}.as_count()' } } });
    // Points at seconds 0, 1 and 2 (and one before): every query of a side answers its own series.
    api.answer = r => {
      const canary = (i: number) => i; // query indexes 0..7 canary (requests, errors, orders, p50..p99), 8..15 baseline
      const list = [
        series(canary(0), ['service:checkout', 'version:2.1.0_b1'], [[at(-1), 999], [at(0), 100], [at(1), 120], [at(2), 80]]),
        series(canary(1), [], [[at(0), 7], [at(1), 0], [at(2), null]]),
        series(canary(2), [], [[at(0), 3], [at(1), 4]]),
        ...[0.012, 0.02, 0.03, 0.05, 0.2].map((v, k) => series(3 + k, [], [[at(0), v], [at(1), v]])),
        series(8, [], [[at(0), 900], [at(1), 880]]),
        series(9, [], [[at(0), 9], [at(1), 8]]),
        series(10, [], [[at(0), 30], [at(1), 31]]),
        ...[0.01, 0.015, 0.02, 0.025, 0.05].map((v, k) => series(11 + k, [], [[at(0), v], [at(1), v]])),
      ];
      return queryAnswer(r.params.query, Number(r.params.from), Number(r.params.to), list);
    };
    const first = await datadog.getSample(context, interval(0));
    const second = await datadog.getSample(context, interval(1));
    expect(first).toMatchObject({ from: interval(0).from.toISOString(), to: interval(0).to.toISOString() });
    expect([first.canary.requests, first.canary.errors, first.canary.counters]).toEqual([100, 7, { orders: 3 }]);
    expect([second.canary.requests, second.canary.errors, second.canary.counters]).toEqual([120, 0, { orders: 4 }]);
    expect([first.baseline.requests, first.baseline.errors, first.baseline.counters]).toEqual([900, 9, { orders: 30 }]);
    // The canary's p95 (50 ms) and p99 (200 ms): 95 of 100 requests at or below 50 ms, 99 at or below 200 ms.
    const { boundsMs, counts } = first.canary.latency!;
    const upTo = (ms: number) => counts.slice(0, boundsMs.indexOf(ms) + 1).reduce((a, b) => a + b, 0);
    expect([upTo(50), upTo(200), counts.reduce((a, b) => a + b, 0)]).toEqual([95, 99, 100]);
    expect(first.baseline.latency!.counts.reduce((a, b) => a + b, 0)).toBe(900);
  });

  it('reads an OpenMetrics histogram by its upper_bound tags, cumulative or not', async () => {
    const buckets = 'sum:http_request_duration_seconds.bucket{${scope}} by {upper_bound}.as_count()';
    const answer = (cumulative: boolean) => (r: Received) => {
      const side = (offset: number) => [
        series(offset, [], [[at(0), 10]]),
        series(offset + 1, [], [[at(0), 1]]),
        ...(cumulative
          ? [['0.05', 6], ['0.1', 9], ['inf', 10]]
          : [['0.05', 6], ['0.1', 3], ['inf', 1]]
        ).map(([bound, count]) => series(offset + 2, [`upper_bound:${bound}`], [[at(0), count as number]])),
      ];
      return queryAnswer(r.params.query, 0, 0, [...side(0), ...side(3)]);
    };
    for (const cumulative of [true, false]) {
      const { provider: datadog } = provider({ queries: { latency: { buckets, cumulative } } });
      api.answer = answer(cumulative);
      const sample = await datadog.getSample(context, interval(0));
      expect(sample.canary.latency).toEqual({ boundsMs: [50, 100], counts: [6, 3, 1] });
    }
    expect(api.received[0].params.query).toBe(
      ['sum:trace.http.request.hits', 'sum:trace.http.request.errors'].map(m => `${m}{${CANARY}}.as_count()`).concat(`sum:http_request_duration_seconds.bucket{${CANARY}} by {upper_bound}.as_count()`)
        .concat(['sum:trace.http.request.hits', 'sum:trace.http.request.errors'].map(m => `${m}{${BASELINE}}.as_count()`), `sum:http_request_duration_seconds.bucket{${BASELINE}} by {upper_bound}.as_count()`)
        .join(','),
    );
  });

  it('no series is no data (zero requests, which never advances a step); a refusal or a broken answer is a provider error', async () => {
    const { provider: datadog } = provider();
    const empty = await datadog.getSample(context, interval(0));
    expect([empty.canary.requests, empty.baseline.requests, empty.canary.latency.counts.reduce((a, b) => a + b, 0)]).toEqual([0, 0, 0]);

    api.answer = () => ({ status: 400, body: { errors: ["Error parsing query: unable to parse sum:trace: Rule 'scope_expr' didn't match"] } });
    await expect(datadog.getSample(context, interval(1))).rejects.toThrow(/Datadog rejected the query \(HTTP 400\): Error parsing query/);
    api.answer = () => ({ status: 403, body: { errors: ['Forbidden'] } });
    await expect(datadog.getSample(context, interval(2))).rejects.toThrow(/refused the keys \(HTTP 403\)/);
    api.answer = () => ({ status: 200, body: { status: 'error', error: 'query timed out' } });
    await expect(datadog.getSample(context, interval(3))).rejects.toThrow(DatadogError);
    api.answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await expect(datadog.getSample(context, interval(4))).rejects.toThrow(DatadogError);
  });

  it('a 429 stops every request until X-RateLimit-Reset has passed, and each tick meanwhile is a provider error', async () => {
    let now = T0;
    const { provider: datadog } = provider({}, () => now);
    api.answer = () => ({
      status: 429,
      headers: { 'x-ratelimit-limit': '1600', 'x-ratelimit-period': '3600', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '7', 'x-ratelimit-name': 'query' },
      body: { errors: ['Rate limit exceeded'] },
    });
    await expect(datadog.getSample(context, interval(0))).rejects.toThrow(/HTTP 429, X-RateLimit-Reset 7s, limit 1600 per 3600s.*not asking again until 2026-12-07T10:00:07.000Z/);
    expect(api.received).toHaveLength(1);
    for (const second of [1, 3, 6]) {
      now = T0 + second * 1000 + 999;
      await expect(datadog.getSample(context, interval(second))).rejects.toThrow(/rate limiting/);
    }
    expect(api.received).toHaveLength(1);
    now = T0 + 7000;
    api.answer = r => queryAnswer(r.params.query, 0, 0, [series(0, [], [[at(7), 50]])]);
    expect((await datadog.getSample(context, interval(7))).canary.requests).toBe(50);
    expect(api.received).toHaveLength(2);
  });

  it('a 429 without a reset time backs off 1, 2, 4 s, and back to 1 s after an answer', async () => {
    let now = T0;
    const { provider: datadog } = provider({}, () => now);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      api.answer = () => ({ status: 429, body: { errors: ['Rate limit exceeded'] } });
      const error = await failure(datadog.getSample(context, interval(i)));
      const until = Date.parse(/until (\S+)$/.exec(error.message)![1]);
      waits.push((until - now) / 1000);
      now = until;
    }
    expect(waits).toEqual([1, 2, 4]);
    api.answer = r => queryAnswer(r.params.query, 0, 0, []);
    await datadog.getSample(context, interval(9));
    api.answer = () => ({ status: 429, body: { errors: ['Rate limit exceeded'] } });
    const again = await failure(datadog.getSample(context, interval(10)));
    expect(again.message).toMatch(/backing off 1s/);
  });

  it('the history: the service scope in buckets from one request', async () => {
    const { provider: datadog } = provider();
    const from = new Date(T0);
    api.answer = r =>
      queryAnswer(r.params.query, 0, 0, [
        series(0, [], [[T0, 10], [T0 + 30_000, 20], [T0 + 60_000, 30], [T0 + 90_000, 5]]),
        series(1, [], [[T0 + 60_000, 3]]),
      ]);
    const history = await datadog.getHistory(context, { from, to: new Date(T0 + 120_000), bucketSeconds: 60 });
    expect(history.map(b => [b.from, b.stats.requests, b.stats.errors])).toEqual([
      [new Date(T0).toISOString(), 30, 0],
      [new Date(T0 + 60_000).toISOString(), 35, 3],
    ]);
    expect(api.received[0].params).toEqual({ from: String(T0 / 1000), to: String(T0 / 1000 + 120), query: DEFAULT_QUERIES('service:checkout').join(',') });
  });

  it("refuses a scope that could leave the query's braces, in annotations and in what is filled in", async () => {
    const { provider: datadog } = provider();
    const rules = datadog.annotationRules;
    expect(annotationProblems({ 'release-pilot.io/datadog-canary-scope': 'service:checkout,env:prod' }, rules)).toEqual([]);
    for (const bad of ['service:checkout} or sum:x{*', 'service:checkout env:prod', 'service:"x"', '*', 'service:checkout,']) {
      expect(annotationProblems({ 'release-pilot.io/datadog-canary-scope': bad }, rules)).toHaveLength(1);
    }
    await expect(
      datadog.getSample({ ...context, annotations: { 'release-pilot.io/datadog-canary-scope': 'service:x},sum:y{*' } }, interval(0)),
    ).rejects.toThrow(/The Datadog canary scope .* is not allowed/);
    expect(api.received).toHaveLength(0);
  });

  it('config errors name the key', () => {
    const read = (c: object) => () => readDatadogOptions(new ConfigReader({ type: 'datadog', apiKey: 'k', applicationKey: 'a', ...c }), 'releases.targets.dd.metrics');
    expect(read({ queries: { requests: 'sum:x{*}.as_count()' } })).toThrow(/releases\.targets\.dd\.metrics\.queries\.requests.*\{\$\{scope\}\}/);
    expect(read({ queries: { errors: 'sum:x{${scope}},sum:y{${scope}}' } })).toThrow(/one query only/);
    expect(read({ queries: { latency: { buckets: 'sum:x.bucket{${scope}}.as_count()' } } })).toThrow(/group by \{upper_bound\}/);
    expect(() => readDatadogOptions(new ConfigReader({ type: 'datadog', applicationKey: 'a' }), 'm')).toThrow(/apiKey/);
    expect(read({ site: 'ftp://x' })).toThrow(/site/);
  });
});

describe('histogramFromPercentiles', () => {
  it('passes through each percentile and puts the tail just above the highest', () => {
    const counts = histogramFromPercentiles(
      [{ quantile: 0.5, ms: 20 }, { quantile: 0.95, ms: 100 }, { quantile: 0.99, ms: 300 }],
      1000,
      [10, 20, 50, 100, 200, 300, 500],
    );
    expect(counts).toEqual([250, 250, 169, 281, 20, 20, 10, 0]);
  });
});
