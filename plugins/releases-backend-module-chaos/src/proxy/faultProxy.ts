import http from 'node:http';
import { getLocal } from 'mockttp';
import { z } from 'zod';

/** The fault the proxy applies, set through its control API. */
export const proxyFaultSchema = z
  .object({
    id: z.string().min(1).max(200),
    /** Milliseconds added before each request is forwarded. */
    latencyMs: z.number().min(0).max(60_000).default(0),
    /** The share (0-1) of requests answered 503 instead of being forwarded. */
    errorShare: z.number().min(0).max(1).default(0),
    /** Seconds after which the proxy drops the fault by itself. */
    ttlSeconds: z.number().positive().max(86_400),
  })
  .strict();

export type ProxyFault = z.infer<typeof proxyFaultSchema>;

export interface FaultProxyOptions {
  /** Where the proxy listens for the instance's dependency calls. */
  port: number;
  host?: string;
  /** The real dependency, e.g. http://127.0.0.1:7400. */
  target: string;
  /** The control API (PUT, GET and DELETE /fault), on loopback. */
  controlPort: number;
}

/**
 * The fault-injecting proxy in front of an instance's dependency, built on mockttp: it forwards
 * every request to the dependency, after the current fault's latency, or answers 503 for the
 * fault's share of them. The fault comes and goes through a small control API and expires by
 * itself after its TTL, so a backend that dies leaves nothing behind for longer than that.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<{ stop(): Promise<void>; fault(): (ProxyFault & { until: number }) | undefined }> {
  let current: (ProxyFault & { until: number }) | undefined;
  const active = () => (current && Date.now() < current.until ? current : undefined);
  const proxy = getLocal({ cors: false, recordTraffic: false });
  await proxy.start(options.port);
  await proxy.forAnyRequest().thenForwardTo(options.target, {
    beforeRequest: async () => {
      const fault = active();
      if (!fault) return undefined;
      if (fault.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, fault.latencyMs));
      if (fault.errorShare > 0 && Math.random() < fault.errorShare) {
        return { response: { statusCode: 503, body: 'release-pilot-fault-proxy: injected error\n' } };
      }
      return undefined;
    },
  });

  const control = http.createServer((req, res) => {
    const answer = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.url !== '/fault') return answer(404, { error: 'the control API has only /fault' });
    if (req.method === 'GET') return answer(200, { fault: active() ?? null });
    if (req.method === 'DELETE') {
      current = undefined;
      return answer(204);
    }
    if (req.method !== 'PUT') return answer(405, { error: 'use GET, PUT or DELETE' });
    let body = '';
    req.on('data', chunk => {
      body += chunk;
    });
    req.on('end', () => {
      let parsed;
      try {
        parsed = proxyFaultSchema.safeParse(JSON.parse(body));
      } catch {
        return answer(400, { error: 'the body is not JSON' });
      }
      if (!parsed.success) return answer(400, { error: parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ') });
      // The same fault again keeps its place but takes the new TTL (the driver re-applies it every tick).
      current = { ...parsed.data, until: Date.now() + parsed.data.ttlSeconds * 1000 };
      return answer(204);
    });
    return undefined;
  });
  await new Promise<void>(resolve => control.listen(options.controlPort, '127.0.0.1', resolve));
  return {
    fault: active,
    async stop() {
      await new Promise(resolve => control.close(resolve));
      await proxy.stop();
    },
  };
}
