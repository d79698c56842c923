import http from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as Datadog's API would receive it. */
export interface Received {
  method: string;
  path: string;
  params: Record<string, string>;
  apiKey?: string;
  applicationKey?: string;
}

/** What the double answers: a status, headers and Datadog's documented body. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** A series of the documented `GET /api/v1/query` answer. */
export function series(queryIndex: number, tagSet: string[], pointlist: Array<[number, number | null]>, expression = 'q') {
  return {
    aggr: 'sum',
    display_name: expression,
    end: pointlist.length ? pointlist[pointlist.length - 1][0] : 0,
    expression,
    interval: 1,
    length: pointlist.length,
    metric: expression,
    pointlist,
    query_index: queryIndex,
    scope: tagSet.join(',') || '*',
    start: pointlist.length ? pointlist[0][0] : 0,
    tag_set: tagSet,
    unit: null,
  };
}

/** The documented body of a metrics query answer. */
export function queryAnswer(query: string, from: number, to: number, list: unknown[]): Answer {
  return {
    status: 200,
    body: { status: 'ok', res_type: 'time_series', resp_version: 1, query, message: '', error: null, from_date: from * 1000, to_date: to * 1000, group_by: [], series: list },
  };
}

/**
 * Datadog's metrics query API on loopback, for what cannot run here: it records every request as the
 * real API would receive it and answers what the test says, by default an answer with no series.
 */
export class DatadogApiDouble {
  readonly received: Received[] = [];
  answer: (request: Received) => Answer = r => queryAnswer(r.params.query, Number(r.params.from), Number(r.params.to), []);
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://double');
      const request: Received = {
        method: req.method ?? '',
        path: url.pathname,
        params: Object.fromEntries(url.searchParams),
        apiKey: req.headers['dd-api-key'] as string | undefined,
        applicationKey: req.headers['dd-application-key'] as string | undefined,
      };
      this.received.push(request);
      let answer: Answer;
      if (request.path !== '/api/v1/query' || request.method !== 'GET') answer = { status: 404, body: { errors: ['Not found'] } };
      else if (!request.apiKey || !request.applicationKey) answer = { status: 403, body: { errors: ['Forbidden'] } };
      else answer = this.answer(request);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise(resolve => this.server?.close(resolve));
  }
}
