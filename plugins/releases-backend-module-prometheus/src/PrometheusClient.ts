import { PrometheusOptions } from './config';

/** One series of a range query: its labels and `[unix seconds, value]` points. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Prometheus did not answer, answered with an error, or timed out: a provider error, not "no data". */
export class PrometheusError extends Error {
  name = 'PrometheusError';
}

/** Prometheus' own limit on points per series in one range query. */
const MAX_POINTS = 11_000;

/** A small client of Prometheus' HTTP API (`/api/v1/query_range`), with auth and a timeout. */
export class PrometheusClient {
  constructor(
    private readonly options: Pick<PrometheusOptions, 'baseUrl' | 'timeoutSeconds' | 'auth'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'accept-encoding': 'identity',
    };
    const auth = this.options.auth;
    if (auth && 'bearerToken' in auth) headers.authorization = `Bearer ${auth.bearerToken}`;
    if (auth && 'username' in auth) {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    return headers;
  }

  /**
   * Evaluates `query` at `start`, `start + step`, ... up to `end` (seconds since the epoch; Prometheus
   * takes fractions), split into several requests when it would exceed Prometheus' point limit.
   */
  async queryRange(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const span = step * (MAX_POINTS - 1);
    // Within the limit (every sample's query, most history queries): one request, nothing to merge.
    if (end - start <= span) return this.queryRangeOnce(query, start, end, step);
    const series = new Map<string, RangeSeries>();
    for (let from = start; from <= end; from += span + step) {
      const to = Math.min(end, from + span);
      for (const s of await this.queryRangeOnce(query, from, to, step)) {
        const key = JSON.stringify(Object.entries(s.metric).sort());
        const existing = series.get(key);
        if (existing) existing.values.push(...s.values);
        else series.set(key, s);
      }
    }
    return [...series.values()];
  }

  private queryRangeOnce(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    return this.matrix({ query, start: start.toFixed(3), end: end.toFixed(3), step: String(step) });
  }

  private async matrix(params: Record<string, string>): Promise<RangeSeries[]> {
    const query = params.query;
    const body = new URLSearchParams({ ...params, timeout: `${this.options.timeoutSeconds}s` });
    const url = `${this.options.baseUrl}/api/v1/query_range`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'POST',
        headers: this.headers(),
        body,
        signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000),
      });
    } catch (error) {
      const cause = error as Error;
      const why = cause.name === 'TimeoutError' ? `no answer within ${this.options.timeoutSeconds}s` : `${cause.message}${cause.cause ? ` (${(cause.cause as Error).message})` : ''}`;
      throw new PrometheusError(`Prometheus at ${this.options.baseUrl} is unreachable: ${why}`);
    }
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusError(
        `Prometheus at ${this.options.baseUrl} answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new PrometheusError(`Prometheus at ${this.options.baseUrl} refused the credentials (HTTP ${response.status}); check the target's metrics.auth`);
    }
    if (json.status !== 'success') {
      throw new PrometheusError(
        `Prometheus rejected the query ${query} (HTTP ${response.status}, ${json.errorType ?? 'error'}): ${json.error ?? text.slice(0, 200)}`,
      );
    }
    if (json.data?.resultType !== 'matrix' || !Array.isArray(json.data.result)) {
      throw new PrometheusError(`Prometheus answered the query ${query} with ${json.data?.resultType ?? 'nothing'}, not a matrix`);
    }
    return json.data.result.map((s: any) => ({
      metric: s.metric ?? {},
      values: (s.values ?? []).map(([t, v]: [number, string]) => [Number(t), v] as [number, string]),
    }));
  }
}
