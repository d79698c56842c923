import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { FakeApiServer } from './__testUtils__/FakeApiServer';
import { readKubernetesRouterOptions } from './config';
import { KubernetesTrafficRouter } from './KubernetesTrafficRouter';

/*
 * No Kubernetes API server can run on this machine. These tests run the router against a local HTTP
 * server that answers like one for the few objects involved (GET, and PATCH with JSON Patch or
 * strategic merge patch) and records every request, so the tests check the exact method, path,
 * content type, authorization and body a real API server would receive.
 */

const HTTPROUTE = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/checkout';
const VIRTUALSERVICE = '/apis/networking.istio.io/v1/namespaces/shop/virtualservices/checkout';
const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/checkout-canary';

const context = { entityRef: 'component:default/checkout', releaseId: 'r', version: '1.4.2', annotations: { 'release-pilot.io/kubernetes-namespace': 'shop' } };

describe('KubernetesTrafficRouter', () => {
  const api = new FakeApiServer();
  let url: string;

  beforeAll(async () => {
    url = await api.start();
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
    api.status = undefined;
    api.objects.set(HTTPROUTE, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '41' },
      spec: {
        parentRefs: [{ name: 'shop-gateway' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], backendRefs: [{ name: 'admin', port: 80 }] },
          { backendRefs: [{ name: 'checkout-stable', port: 8080, weight: 100 }, { name: 'checkout-canary', port: 8080, weight: 0 }] },
        ],
      },
    });
    api.objects.set(VIRTUALSERVICE, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '7' },
      spec: {
        hosts: ['checkout.shop.svc.cluster.local'],
        http: [{ route: [{ destination: { host: 'checkout.shop.svc.cluster.local', subset: 'stable' }, weight: 100 }, { destination: { host: 'checkout.shop.svc.cluster.local', subset: 'canary' }, weight: 0 }] }],
      },
    });
    api.objects.set(DEPLOYMENT, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout-canary', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'checkout' } }, template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image: 'registry.example.com/checkout:1.4.1' }] } } },
    });
  });

  const router = (extra: Record<string, unknown>) =>
    new KubernetesTrafficRouter(
      readKubernetesRouterOptions(
        new ConfigReader({ cluster: 'prod', ...extra }),
        'releases.targets.k8s.router',
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [{ type: 'config', clusters: [{ name: 'prod', url, authProvider: 'serviceAccount', serviceAccountToken: 'sa-token', skipTLSVerify: true }] }],
          },
        }),
      ),
    );

  it('Gateway API: reads and sets HTTPRoute backendRef weights with one JSON Patch guarded by resourceVersion', async () => {
    const r = router({ type: 'gateway-api' });
    expect(await r.getCanaryWeight(context)).toBe(0);
    await r.setCanaryWeight(context, 10);
    expect(api.requests.map(q => `${q.method} ${q.path}`)).toEqual([`GET ${HTTPROUTE}`, `GET ${HTTPROUTE}`, `PATCH ${HTTPROUTE}`]);
    const patch = api.requests[2];
    expect(patch.contentType).toBe('application/json-patch+json');
    expect(patch.authorization).toBe('Bearer sa-token');
    expect(patch.body).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '41' },
      { op: 'replace', path: '/spec/rules/1/backendRefs/1/weight', value: 10 },
      { op: 'replace', path: '/spec/rules/1/backendRefs/0/weight', value: 90 },
    ]);
    expect(await r.getCanaryWeight(context)).toBe(10);
    // The other rule's backend is untouched.
    expect(api.objects.get(HTTPROUTE).spec.rules[0].backendRefs).toEqual([{ name: 'admin', port: 80 }]);
  });

  it('fencing: records the token on the route and refuses a lower one without patching', async () => {
    const r = router({ type: 'gateway-api' });
    await r.setCanaryWeight({ ...context, fencingToken: 5 }, 10);
    expect(api.requests.find(q => q.method === 'PATCH')!.body.slice(-1)).toEqual([
      { op: 'add', path: '/metadata/annotations', value: { 'release-pilot.io/fencing-token': '5' } },
    ]);
    api.requests.length = 0;
    // A replica frozen past its lease wakes with an older token: refused, and the route keeps 10 %.
    await expect(r.setCanaryWeight({ ...context, fencingToken: 4 }, 50)).rejects.toThrow(
      'Refused a stale router call for component:default/checkout: fencing token 4 is older than 5',
    );
    expect(api.requests.map(q => q.method)).toEqual(['GET']);
    expect(await r.getCanaryWeight(context)).toBe(10);
    // The replica that took over (a newer token) moves on, updating the annotation in the same patch.
    await r.setCanaryWeight({ ...context, fencingToken: 9 }, 0);
    expect(api.requests.find(q => q.method === 'PATCH')!.body).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      { op: 'replace', path: '/spec/rules/1/backendRefs/1/weight', value: 0 },
      { op: 'replace', path: '/spec/rules/1/backendRefs/0/weight', value: 100 },
      { op: 'add', path: '/metadata/annotations/release-pilot.io~1fencing-token', value: '9' },
    ]);
    expect(api.objects.get(HTTPROUTE).metadata.annotations).toEqual({ 'release-pilot.io/fencing-token': '9' });
  });

  it('Istio: sets VirtualService route weights, telling sides apart by subset', async () => {
    const r = router({ type: 'istio', stableSubset: 'stable', canarySubset: 'canary' });
    await r.setCanaryWeight(context, 25);
    const patch = api.requests.find(q => q.method === 'PATCH')!;
    expect(patch.path).toBe(VIRTUALSERVICE);
    expect(patch.contentType).toBe('application/json-patch+json');
    expect(patch.body).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 25 },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 75 },
    ]);
    expect(await r.getCanaryWeight(context)).toBe(25);
  });

  it('Istio: tells sides apart by destination host (short or fully qualified)', async () => {
    api.objects.get(VIRTUALSERVICE).spec.http[0].route = [
      { destination: { host: 'checkout-stable.shop.svc.cluster.local' } },
      { destination: { host: 'checkout-canary' }, weight: 0 },
    ];
    const r = router({ type: 'istio' });
    expect(await r.getCanaryWeight(context)).toBe(0);
    await r.setCanaryWeight(context, 100);
    expect(api.requests.find(q => q.method === 'PATCH')!.body.slice(1)).toEqual([
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 100 },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 0 },
    ]);
  });

  it('says what is wrong: a missing route, no canary backend, refused credentials, a concurrent edit', async () => {
    const r = router({ type: 'gateway-api' });
    await expect(r.getCanaryWeight({ ...context, annotations: { 'release-pilot.io/kubernetes-namespace': 'nope' } })).rejects.toThrow(
      'Kubernetes API: reading HTTPRoute nope/checkout failed with HTTP 404 (does it exist in that namespace?): checkout not found',
    );
    api.objects.get(HTTPROUTE).spec.rules[1].backendRefs.pop();
    await expect(r.getCanaryWeight(context)).rejects.toThrow(/HTTPRoute shop\/checkout has no canary backend .*checkout-canary/);
    api.status = 403;
    await expect(r.setCanaryWeight(context, 5)).rejects.toThrow(/HTTP 403 \(check the service account token and its RBAC/);
  });

  it('sends no request for a namespace or route annotation that is not a Kubernetes name (no path of another object)', async () => {
    const r = router({ type: 'gateway-api' });
    const hostile: Array<Record<string, string>> = [
      { 'release-pilot.io/kubernetes-namespace': 'shop/httproutes/other' },
      { 'release-pilot.io/kubernetes-namespace': 'shop', 'release-pilot.io/kubernetes-route': '../../../namespaces/kube-system/secrets/token' },
      { 'release-pilot.io/kubernetes-namespace': 'Shop' },
    ];
    for (const annotations of hostile) {
      await expect(r.setCanaryWeight({ ...context, annotations }, 50)).rejects.toThrow(/^The (Kubernetes namespace|route) '.*' is not allowed; it must be a Kubernetes/);
    }
    expect(api.requests).toEqual([]);
  });

  it('never overwrites a concurrent edit: the resourceVersion test fails the patch', async () => {
    const r = router({ type: 'gateway-api' });
    const original = api.objects.get(HTTPROUTE);
    const patchOf = KubernetesTrafficRouter.weightPatch('40', [
      { path: '/spec/rules/1/backendRefs/1/weight', side: 'canary', weight: 0 },
      { path: '/spec/rules/1/backendRefs/0/weight', side: 'stable', weight: 100 },
    ], 50);
    expect(patchOf[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '40' });
    // Someone edits the route between our read and our patch.
    const realGet = api.objects.get.bind(api.objects);
    let reads = 0;
    api.objects.get = (key: string) => {
      const object = realGet(key);
      if (key === HTTPROUTE && ++reads === 2) object.metadata.resourceVersion = '99';
      return object;
    };
    await expect(r.setCanaryWeight(context, 50)).rejects.toThrow(/HTTP 409.*modified/);
    api.objects.get = realGet;
    expect(original.spec.rules[1].backendRefs[1].weight).toBe(0);
  });
});

describe('readKubernetesRouterOptions', () => {
  const root = new ConfigReader({
    kubernetes: { clusterLocatorMethods: [{ type: 'config', clusters: [{ name: 'prod', url: 'https://k8s.example.com', serviceAccountToken: 't' }, { name: 'dev', url: 'https://dev', authProvider: 'google' }] }] },
  });
  const read = (c: JsonObject) => readKubernetesRouterOptions(new ConfigReader(c), 'releases.targets.k8s.router', root);

  it("takes a cluster from the Kubernetes plugin's config or inline", () => {
    expect(read({ type: 'istio', cluster: 'prod' }).cluster).toMatchObject({ name: 'prod', url: 'https://k8s.example.com', serviceAccountToken: 't' });
    expect(read({ type: 'gateway-api', cluster: { url: 'https://x', serviceAccountToken: 't' } }).cluster.name).toBe('inline');
  });

  it('names the bad key', () => {
    expect(() => read({ type: 'istio', cluster: 'staging' })).toThrow(
      "Invalid config releases.targets.k8s.router.cluster: no cluster 'staging' in kubernetes.clusterLocatorMethods (type config); known: prod, dev",
    );
    expect(() => read({ type: 'istio', cluster: 'dev' })).toThrow(/kubernetes\.clusterLocatorMethods\[0\]\.clusters\[1\]\.authProvider: only authProvider 'serviceAccount'/);
    expect(() => read({ type: 'linkerd', cluster: 'prod' })).toThrow(/router\.type/);
    expect(() => read({ type: 'istio', cluster: { url: 'http://127.0.0.1:8001', serviceAccountToken: 't' } })).toThrow(
      /router\.cluster\.url: a plain http:\/\/ API server needs skipTLSVerify: true/,
    );
    expect(() => read({ type: 'istio', cluster: 'prod', canarySubset: 'c' })).toThrow(/router\.canarySubset: set both stableSubset and canarySubset/);
    expect(() => read({ type: 'istio', cluster: 'prod', canaryDeployment: { container: 'x', image: 'reg/x:${version}' } })).toThrow(/canaryDeployment: moved: set the image through the target's deployer/);
  });
});
