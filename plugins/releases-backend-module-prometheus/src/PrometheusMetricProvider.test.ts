import { ConfigReader } from '@backstage/config';
import { annotationProblems } from '@release-pilot/plugin-releases-node';
import { readPrometheusOptions } from './config';
import { PrometheusClient, PrometheusError } from './PrometheusClient';
import {
  counterIncrease,
  PrometheusMetricProvider,
} from './PrometheusMetricProvider';

const context = {
  entityRef: 'component:shop/checkout',
  releaseId: 'r1',
  version: '1.4.2',
  annotations: {},
};

type Call = { url: string; headers: Record<string, string>; params: URLSearchParams };

/** A fetch that answers like Prometheus' query_range, from a table of series per query. */
function fakePrometheus(answer: (query: string, params: URLSearchParams) => unknown, calls: Call[] = []) {
  return (async (url: string, init: RequestInit) => {
    const params = new URLSearchParams(String(init.body));
    calls.push({ url, headers: init.headers as Record<string, string>, params });
    const body = answer(params.get('query')!, params);
    return new Response(JSON.stringify(body), { status: 200 });
  }) as unknown as typeof fetch;
}

const matrix = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } });

function options(extra: Record<string, unknown> = {}) {
  return readPrometheusOptions(
    new ConfigReader({ type: 'prometheus', baseUrl: 'http://prom:9090/', ...extra }),
    'releases.targets.vm.metrics',
  );
}

describe('counterIncrease', () => {
  it('differences, restarts after a reset and counts a new series from zero', () => {
    expect(counterIncrease(100, 130)).toBe(30);
    expect(counterIncrease(100, 7)).toBe(7);
    expect(counterIncrease(undefined, 12)).toBe(12);
    expect(counterIncrease(50, undefined)).toBe(0);
  });
});

describe('readPrometheusOptions', () => {
  it('fills defaults and strips a trailing slash', () => {
    const o = options();
    expect(o.baseUrl).toBe('http://prom:9090');
    expect(o.timeoutSeconds).toBe(5);
    expect(o.queries.requests).toBe('http_requests_total{${selector}}');
  });

  it('names the bad key and says what to fix', () => {
    expect(() => options({ baseUrl: 'prom:9090' })).toThrow(/releases\.targets\.vm\.metrics\.baseUrl/);
    expect(() => options({ timeoutSeconds: -1 })).toThrow(/metrics\.timeoutSeconds/);
    expect(() => options({ queries: { requests: 'http_requests_total' } })).toThrow(/queries\.requests: the query must contain \$\{selector\}/);
    expect(() => options({ selectors: { canary: 'app="${app}"' } })).toThrow(/selectors\.canary: unknown placeholder \$\{app\}/);
    expect(() => options({ auth: { token: 'x' } })).toThrow(/metrics\.auth/);
    expect(() => options({ querys: {} })).toThrow(/metrics/);
  });
});

describe('PrometheusMetricProvider', () => {
  const from = new Date('2026-11-27T10:00:00.000Z');
  const to = new Date('2026-11-27T10:00:01.500Z');
  const t0 = from.getTime() / 1000;
  const t1 = to.getTime() / 1000;

  it('unbatched, queries each side at both ends of the interval and differences the counters per series', async () => {
    const calls: Call[] = [];
    const fetchImpl = fakePrometheus(query => {
      const canary = query.includes('track="canary"');
      if (query.startsWith('http_request_duration_seconds_bucket')) {
        return matrix([
          { metric: { le: '0.1', instance: 'a' }, values: [[t0, '10'], [t1, canary ? '14' : '110']] },
          { metric: { le: '+Inf', instance: 'a' }, values: [[t0, '10'], [t1, canary ? '20' : '112']] },
        ]);
      }
      if (query.includes('code=~"5.."')) {
        return matrix(canary ? [{ metric: { code: '500' }, values: [[t1, '3']] }] : []);
      }
      return matrix([
        // one instance restarted (reset), one is new since the start
        { metric: { instance: 'a' }, values: [[t0, '1000'], [t1, canary ? '6' : '1100']] },
        { metric: { instance: 'b' }, values: [[t1, canary ? '4' : '2']] },
      ]);
    }, calls);
    const provider = new PrometheusMetricProvider(
      options({ batch: { windowMs: 0 }, auth: { bearerToken: 's3cret' }, selectors: { canary: 'app="${entityName}",ns="${namespace}",track="canary"', baseline: 'app="${entityName}",track="stable"' } }),
      new PrometheusClient({ baseUrl: 'http://prom:9090', timeoutSeconds: 5, auth: { bearerToken: 's3cret' } }, fetchImpl),
    );
    const sample = await provider.getSample(context, { from, to });
    expect(sample.canary.requests).toBe(10);
    expect(sample.canary.errors).toBe(3);
    expect(sample.canary.latency).toEqual({ boundsMs: [100], counts: [4, 6] });
    expect(sample.baseline.requests).toBe(102);
    expect(sample.baseline.errors).toBe(0);
    expect(sample.baseline.latency.counts).toEqual([100, 2]);

    expect(calls).toHaveLength(6);
    const first = calls.find(c => c.params.get('query') === 'http_requests_total{app="checkout",ns="shop",track="canary"}');
    expect(first).toBeDefined();
    expect(first!.url).toBe('http://prom:9090/api/v1/query_range');
    expect(first!.headers.authorization).toBe('Bearer s3cret');
    expect(first!.params.get('start')).toBe(t0.toFixed(3));
    expect(first!.params.get('end')).toBe(t1.toFixed(3));
    expect(first!.params.get('step')).toBe('1.5');
  });

  it('unbatched, takes the entity annotation over the target selector, and counts named counters', async () => {
    const queries: string[] = [];
    const fetchImpl = fakePrometheus(query => {
      queries.push(query);
      return matrix(query.startsWith('orders_total') ? [{ metric: {}, values: [[t0, '5'], [t1, '9']] }] : []);
    });
    const o = options({ batch: { windowMs: 0 }, queries: { counters: { orders: 'orders_total{${selector}}' } } });
    const provider = new PrometheusMetricProvider(o, new PrometheusClient(o, fetchImpl));
    const sample = await provider.getSample(
      { ...context, annotations: { 'release-pilot.io/prometheus-canary-selector': 'pool="green"' } },
      { from, to },
    );
    expect(queries).toContain('orders_total{pool="green"}');
    expect(queries).toContain('http_requests_total{service="checkout",track="stable"}');
    expect(sample.canary.counters).toEqual({ orders: 4 });
    expect(sample.canary.requests).toBe(0);
  });

  it('sends no query with a selector that could close its braces or add a query of its own', async () => {
    const queries: string[] = [];
    const o = options({});
    const provider = new PrometheusMetricProvider(o, new PrometheusClient(o, fakePrometheus(query => {
      queries.push(query);
      return matrix([]);
    })));
    const hostile = [
      'service="checkout"} or on() vector(1e9) or up{x="',
      'service="checkout",track=~".*\\"}',
      'service="checkout"\n',
      'service=checkout',
    ];
    for (const selector of hostile) {
      const annotated = { ...context, annotations: { 'release-pilot.io/prometheus-canary-selector': selector } };
      await expect(provider.getSample(annotated, { from, to })).rejects.toThrow(/^The Prometheus canary selector '.*' is not allowed; it must be PromQL label matchers/);
    }
    expect(queries.filter(q => q.includes('or on()') || q.includes('checkout\n'))).toEqual([]);
    expect(annotationProblems({ 'release-pilot.io/prometheus-canary-selector': hostile[0] }, provider.annotationRules)).toHaveLength(1);
    expect(annotationProblems({ 'release-pilot.io/prometheus-canary-selector': 'app="${entityName}", track=~"canary|green"' }, provider.annotationRules)).toEqual([]);
  });

  it('tells no data (zero requests) from errors (unreachable, refused, rejected query)', async () => {
    const o = options({ auth: { username: 'u', password: 'p' } });
    const empty = new PrometheusMetricProvider(o, new PrometheusClient(o, fakePrometheus(() => matrix([]))));
    const sample = await empty.getSample(context, { from, to });
    expect(sample.canary.requests + sample.baseline.requests).toBe(0);

    const rejected = new PrometheusClient(o, fakePrometheus(() => ({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' })));
    await expect(rejected.queryRange('x{', t0, t1, 1)).rejects.toThrow(/rejected the query x\{ .*parse error/);

    const refused = new PrometheusClient(o, (async () => new Response('{"status":"error","error":"unauthorized"}', { status: 401 })) as unknown as typeof fetch);
    await expect(refused.queryRange('up', t0, t1, 1)).rejects.toThrow(/refused the credentials \(HTTP 401\)/);

    const calls: Call[] = [];
    await new PrometheusClient(o, fakePrometheus(() => matrix([]), calls)).queryRange('up', t0, t1, 1);
    expect(calls[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);

    const down = new PrometheusClient({ baseUrl: 'http://127.0.0.1:7019', timeoutSeconds: 1 });
    await expect(down.queryRange('up', t0, t1, 1)).rejects.toThrow(PrometheusError);
    await expect(down.queryRange('up', t0, t1, 1)).rejects.toThrow(/unreachable/);
  });

  it('cuts history into buckets of the summed service counters, split under the point limit', async () => {
    const calls: Call[] = [];
    const fetchImpl = fakePrometheus((query, params) => {
      const start = Number(params.get('start'));
      const end = Number(params.get('end'));
      const step = Number(params.get('step'));
      const values: Array<[number, string]> = [];
      for (let t = start; t <= end; t += step) {
        const n = (t - 1_700_000_000) / 30;
        if (query.startsWith('sum by (le)')) continue;
        values.push([t, String(query.includes('5..') ? n : n * 100)]);
      }
      return matrix(values.length ? [{ metric: {}, values }] : []);
    }, calls);
    const o = options();
    const provider = new PrometheusMetricProvider(o, new PrometheusClient(o, fetchImpl));
    const history = await provider.getHistory(context, {
      from: new Date(1_700_000_000_000),
      to: new Date((1_700_000_000 + 4 * 86_400) * 1000),
      bucketSeconds: 30,
    });
    expect(calls.map(c => c.params.get('query'))).toContain('sum(http_requests_total{service="checkout"})');
    // 4 days of 30 s buckets = 11,520 points: more than one request per query.
    expect(calls.filter(c => c.params.get('query') === 'sum(http_requests_total{service="checkout"})').length).toBe(2);
    expect(history.length).toBeGreaterThan(11_000);
    expect(history[0]).toMatchObject({ stats: { requests: 100, errors: 1 } });
    expect(new Date(history[1].from).getTime() - new Date(history[0].from).getTime()).toBe(30_000);
  });
});
