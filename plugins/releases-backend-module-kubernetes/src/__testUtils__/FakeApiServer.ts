import http from 'node:http';
import { AddressInfo } from 'node:net';

/*
 * No Kubernetes API server can run on this machine. The tests run the router and the deployer
 * against a local HTTP server that answers like one for the few objects involved (GET, PATCH
 * with JSON Patch, merge patch or strategic merge patch; for custom resources POST, list by label
 * and DELETE) and records every request, so the tests check the
 * exact method, path, content type, authorization and body a real API server would receive.
 * `rollOut` plays the Deployment controller: it makes a Deployment's status match its spec.
 */

type Recorded = { method: string; path: string; contentType?: string; authorization?: string; body?: any };

export class FakeApiServer {
  readonly requests: Recorded[] = [];
  readonly objects = new Map<string, any>();
  status?: number;
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', d => (raw += d));
      req.on('end', () => {
        const body = raw ? JSON.parse(raw) : undefined;
        this.requests.push({ method: req.method!, path: req.url!, contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
        const send = (code: number, payload: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        if (this.status) return send(this.status, { kind: 'Status', message: `forbidden: User "system:serviceaccount:rp:rp" cannot patch resource`, code: this.status });
        const [path, query] = req.url!.split('?');
        // Custom resources: create into a collection, list it by label, delete one.
        if (req.method === 'POST') {
          const at = `${path}/${body?.metadata?.name}`;
          if (this.objects.has(at)) return send(409, { kind: 'Status', message: `${body.metadata.name} already exists`, code: 409 });
          this.objects.set(at, { ...body, metadata: { ...body.metadata, resourceVersion: '1' } });
          return send(201, this.objects.get(at));
        }
        if (req.method === 'GET' && query?.includes('labelSelector')) {
          const selector = new URLSearchParams(query ?? '').get('labelSelector');
          const [key, value] = selector ? selector.split('=') : [];
          const items = [...this.objects.entries()].filter(([k, o]) => k.startsWith(`${path}/`) && (!key || o.metadata?.labels?.[key] === value)).map(([, o]) => o);
          return send(200, { kind: 'List', items });
        }
        if (req.method === 'DELETE') {
          if (!this.objects.has(path)) return send(404, { kind: 'Status', message: `${path.split('/').pop()} not found`, code: 404 });
          this.objects.delete(path);
          return send(200, { kind: 'Status', status: 'Success' });
        }
        const object = this.objects.get(path);
        if (!object) return send(404, { kind: 'Status', message: `${path.split('/').pop()} not found`, code: 404 });
        if (req.method === 'GET') return send(200, object);
        if (req.method === 'PATCH' && req.headers['content-type'] === 'application/json-patch+json') {
          const next = structuredClone(object);
          for (const op of body) {
            const keys = op.path.split('/').slice(1).map((k: string) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
            const parent = keys.slice(0, -1).reduce((o: any, k: string) => o[k], next);
            const key = keys[keys.length - 1];
            if (op.op === 'test' && parent[key] !== op.value) return send(409, { kind: 'Status', message: 'the object has been modified', code: 409 });
            if (op.op === 'replace' || op.op === 'add') parent[key] = op.value;
          }
          next.metadata.resourceVersion = String(Number(next.metadata.resourceVersion) + 1);
          this.objects.set(path, next);
          return send(200, next);
        }
        if (req.method === 'PATCH' && req.headers['content-type'] === 'application/merge-patch+json') {
          const next = structuredClone(object);
          next.spec = { ...next.spec, ...body.spec };
          this.objects.set(path, next);
          return send(200, next);
        }
        if (req.method === 'PATCH' && req.headers['content-type'] === 'application/strategic-merge-patch+json') {
          // The parts of a Deployment Release Pilot patches: replicas, and containers merged by name.
          const next = structuredClone(object);
          if (body.spec.replicas !== undefined) next.spec.replicas = body.spec.replicas;
          for (const c of body.spec.template?.spec?.containers ?? []) {
            next.spec.template.spec.containers.find((x: any) => x.name === c.name).image = c.image;
          }
          if (JSON.stringify(next.spec) !== JSON.stringify(object.spec)) next.metadata.generation = (object.metadata.generation ?? 1) + 1;
          this.objects.set(path, next);
          return send(200, next);
        }
        return send(415, { kind: 'Status', message: 'unsupported', code: 415 });
      });
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop() {
    this.server?.close();
  }
}

/** The Deployment controller finished rolling out the current spec of the Deployment at `path`. */
export function rollOut(api: FakeApiServer, path: string) {
  const d = api.objects.get(path);
  const replicas = d.spec.replicas ?? 1;
  d.status = { observedGeneration: d.metadata.generation ?? 1, replicas, updatedReplicas: replicas, availableReplicas: replicas, readyReplicas: replicas };
}
