import http from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as the Kubernetes API server would receive it. */
export interface KubeRequest {
  method: string;
  path: string;
  contentType?: string;
  authorization?: string;
  /** The body exactly as sent. */
  body?: string;
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * No Kubernetes API server runs here. This one answers like it for the objects Argo Rollouts
 * actions touch: GET a Rollout, list ReplicaSets (by label selector) and AnalysisRuns, PATCH a
 * Rollout or its `status` subresource with a merge patch or a JSON patch. It records every request
 * with its exact body, so tests compare what `kubectl argo rollouts` would have sent.
 */
export class KubeApiDouble {
  readonly requests: KubeRequest[] = [];
  readonly objects = new Map<string, any>();
  /** A cluster whose Rollout CRD has no status subresource (Argo Rollouts before v0.10): /status is a 404. */
  statusSubresource = true;
  token = 'sa-token';
  private server?: http.Server;

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', d => (raw += d));
      req.on('end', () => {
        const request: KubeRequest = {
          method: req.method!,
          path: req.url!,
          ...(req.headers['content-type'] && { contentType: req.headers['content-type'] }),
          ...(req.headers.authorization && { authorization: req.headers.authorization }),
          ...(raw && { body: raw }),
        };
        this.requests.push(request);
        const send = (code: number, payload: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        const status = (code: number, message: string) => send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
        if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized');
        const [path, query] = req.url!.split('?');
        if (req.method === 'GET' && (path.endsWith('/replicasets') || path.endsWith('/analysisruns'))) {
          const selector = new URLSearchParams(query ?? '').get('labelSelector');
          const wanted = selector ? selector.split(',').map(s => s.split('=')) : [];
          const items = [...this.objects.entries()]
            .filter(([key]) => key.startsWith(`${path}/`))
            .map(([, o]) => o)
            .filter(o => wanted.every(([k, v]) => o.metadata?.labels?.[k] === v));
          return send(200, { kind: 'List', apiVersion: 'v1', metadata: {}, items });
        }
        const isStatus = path.endsWith('/status');
        const objectPath = isStatus ? path.slice(0, -'/status'.length) : path;
        const object = this.objects.get(objectPath);
        if (!object || (isStatus && !this.statusSubresource)) return status(404, `the server could not find the requested resource`);
        if (req.method === 'GET') return send(200, object);
        if (req.method !== 'PATCH') return status(405, 'method not allowed');
        let next: any;
        if (request.contentType === 'application/merge-patch+json') {
          const patch = JSON.parse(raw);
          // The status subresource takes only status; the object itself only the rest (with a subresource).
          if (isStatus) next = { ...object, status: mergePatch(object.status, patch.status ?? {}) };
          else if (this.statusSubresource) next = mergePatch(object, { ...patch, status: undefined });
          else next = mergePatch(object, patch);
          if (next.status === undefined && object.status) next.status = object.status;
        } else if (request.contentType === 'application/json-patch+json' && !isStatus) {
          next = structuredClone(object);
          for (const op of JSON.parse(raw)) {
            const keys = op.path.split('/').slice(1);
            const parent = keys.slice(0, -1).reduce((o: any, k: string) => o[k], next);
            if (op.op !== 'replace') return status(422, `unsupported op ${op.op}`);
            parent[keys[keys.length - 1]] = op.value;
          }
        } else {
          return status(415, `unsupported media type ${request.contentType}`);
        }
        this.objects.set(objectPath, next);
        return send(200, next);
      });
    });
    await new Promise<void>(resolve => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise(resolve => this.server?.close(resolve));
  }
}

const NS = '/apis/argoproj.io/v1alpha1/namespaces';

/**
 * A canary Rollout of `name` paused at its second step (20 %, a pause without a duration), with its
 * stable and canary ReplicaSets and one running AnalysisRun: what the Releases tab shows.
 */
export function pausedRollout(double: KubeApiDouble, name = 'checkout', namespace = 'shop') {
  const uid = `uid-${name}`;
  const owner = [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name, uid, controller: true }];
  const template = (image: string, hash: string) => ({
    metadata: { labels: { app: name, [`rollouts-pod-template-hash`]: hash } },
    spec: { containers: [{ name, image }] },
  });
  double.objects.set(`${NS}/${namespace}/rollouts/${name}`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace, uid, generation: 4 },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `registry.example.com/${name}:2.1.0` }] } },
      strategy: {
        canary: {
          steps: [
            { setWeight: 20 },
            { pause: {} },
            { setWeight: 50 },
            { analysis: { templates: [{ templateName: 'success-rate' }] } },
            { pause: { duration: '10m' } },
          ],
        },
      },
    },
    status: {
      phase: 'Paused',
      message: 'CanaryPauseStep',
      currentPodHash: '6d8f9c7b54',
      stableRS: '5b7c9d8f46',
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-12-07T10:00:00Z' }],
      canary: { weights: { canary: { podTemplateHash: '6d8f9c7b54', weight: 20 }, stable: { podTemplateHash: '5b7c9d8f46', weight: 80 } } },
    },
  });
  const rs = (hash: string, image: string, revision: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${name}-${hash}`, namespace, labels: { app: name, 'rollouts-pod-template-hash': hash }, annotations: { 'rollout.argoproj.io/revision': revision }, ownerReferences: owner },
    spec: { replicas, template: template(image, hash) },
    status: { replicas, readyReplicas: replicas },
  });
  double.objects.set(`/apis/apps/v1/namespaces/${namespace}/replicasets/${name}-5b7c9d8f46`, rs('5b7c9d8f46', `registry.example.com/${name}:2.0.0`, '3', 4));
  double.objects.set(`/apis/apps/v1/namespaces/${namespace}/replicasets/${name}-6d8f9c7b54`, rs('6d8f9c7b54', `registry.example.com/${name}:2.1.0`, '4', 1));
  double.objects.set(`/apis/apps/v1/namespaces/${namespace}/replicasets/other-1`, { ...rs('1', 'x', '9', 1), metadata: { name: 'other-1', namespace, labels: { app: name }, ownerReferences: [] } });
  double.objects.set(`${NS}/${namespace}/analysisruns/${name}-6d8f9c7b54-4-1`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name: `${name}-6d8f9c7b54-4-1`, namespace, ownerReferences: owner, creationTimestamp: '2026-12-07T09:58:00Z' },
    status: {
      phase: 'Running',
      startedAt: '2026-12-07T09:58:00Z',
      metricResults: [
        {
          name: 'success-rate',
          phase: 'Running',
          successful: 2,
          measurements: [
            { phase: 'Successful', value: '0.997', startedAt: '2026-12-07T09:58:00Z', finishedAt: '2026-12-07T09:58:01Z' },
            { phase: 'Successful', value: '0.995', startedAt: '2026-12-07T09:59:00Z', finishedAt: '2026-12-07T09:59:01Z' },
          ],
        },
      ],
    },
  });
  return `${NS}/${namespace}/rollouts/${name}`;
}
