import { DatadogOptions } from './config';

/** One series of a metrics query: its tags and `[milliseconds, value]` points (a value may be null). */
export interface DatadogSeries {
  queryIndex: number;
  tags: string[];
  points: Array<[number, number | null]>;
}

/** Datadog did not answer, refused, or is rate limiting us: a provider error, never "no data". */
export class DatadogError extends Error {
  name = 'DatadogError';
}

/**
 * A small client of Datadog's metrics query API (`GET /api/v1/query`): several queries in one
 * request, the API and application keys as headers, a timeout, and the rate limits honoured. After
 * a 429 it asks nothing until the limit resets (`X-RateLimit-Reset`, seconds; else `Retry-After`;
 * else a doubling backoff): every call meanwhile fails at once, as a provider error.
 */
export class DatadogClient {
  private blockedUntil = 0;
  private blockedWhy = '';
  private backoffSeconds: number;

  constructor(
    private readonly options: Pick<DatadogOptions, 'site' | 'apiKey' | 'applicationKey' | 'timeoutSeconds' | 'backoff'>,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {
    this.backoffSeconds = options.backoff.initialSeconds;
  }

  /** The series of each query over `[from, to]` (seconds since the epoch), in the order asked. */
  async query(queries: readonly string[], from: number, to: number): Promise<DatadogSeries[][]> {
    if (this.now() < this.blockedUntil) {
      throw new DatadogError(`Datadog is rate limiting this target (${this.blockedWhy}): not asking again until ${new Date(this.blockedUntil).toISOString()}`);
    }
    const params = new URLSearchParams({ from: String(Math.floor(from)), to: String(Math.ceil(to)), query: queries.join(',') });
    const url = `${this.options.site}/api/v1/query?${params}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'GET',
        headers: { accept: 'application/json', 'dd-api-key': this.options.apiKey, 'dd-application-key': this.options.applicationKey },
        signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000),
      });
    } catch (error) {
      const cause = error as Error;
      const why = cause.name === 'TimeoutError' ? `no answer within ${this.options.timeoutSeconds}s` : `${cause.message}${cause.cause ? ` (${(cause.cause as Error).message})` : ''}`;
      throw new DatadogError(`Datadog at ${this.options.site} is unreachable: ${why}`);
    }
    const text = await response.text();
    if (response.status === 429) throw this.rateLimited(response);
    if (response.status === 401 || response.status === 403) {
      throw new DatadogError(`Datadog at ${this.options.site} refused the keys (HTTP ${response.status}); check the target's metrics.apiKey and applicationKey (the application key needs the timeseries_query scope)`);
    }
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DatadogError(`Datadog answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok || json.status === 'error') {
      const errors = Array.isArray(json.errors) ? json.errors.join('; ') : json.error ?? text.slice(0, 200);
      throw new DatadogError(`Datadog rejected the query (HTTP ${response.status}): ${errors}`);
    }
    if (!Array.isArray(json.series)) throw new DatadogError(`Datadog answered without series: ${text.slice(0, 200)}`);
    this.backoffSeconds = this.options.backoff.initialSeconds;
    const byQuery: DatadogSeries[][] = queries.map(() => []);
    for (const s of json.series) {
      // One query per request answers without query_index.
      const index = Number(s.query_index ?? 0);
      if (!byQuery[index]) throw new DatadogError(`Datadog answered a series for query ${index}, of ${queries.length} asked`);
      byQuery[index].push({
        queryIndex: index,
        tags: Array.isArray(s.tag_set) ? s.tag_set.map(String) : [],
        points: (s.pointlist ?? []).map(([t, v]: [number, number | null]) => [Number(t), v === null ? null : Number(v)] as [number, number | null]),
      });
    }
    return byQuery;
  }

  private rateLimited(response: Response): DatadogError {
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    const retryAfter = Number(response.headers.get('retry-after'));
    let seconds: number;
    if (Number.isFinite(reset) && reset > 0) {
      seconds = reset;
      this.blockedWhy = `HTTP 429, X-RateLimit-Reset ${reset}s, limit ${response.headers.get('x-ratelimit-limit') ?? '?'} per ${response.headers.get('x-ratelimit-period') ?? '?'}s`;
    } else if (Number.isFinite(retryAfter) && retryAfter > 0) {
      seconds = retryAfter;
      this.blockedWhy = `HTTP 429, Retry-After ${retryAfter}s`;
    } else {
      seconds = this.backoffSeconds;
      this.blockedWhy = `HTTP 429 without a reset time, backing off ${seconds}s`;
      this.backoffSeconds = Math.min(this.options.backoff.maxSeconds, this.backoffSeconds * 2);
    }
    this.blockedUntil = this.now() + seconds * 1000;
    return new DatadogError(`Datadog is rate limiting this target (${this.blockedWhy}): not asking again until ${new Date(this.blockedUntil).toISOString()}`);
  }
}
