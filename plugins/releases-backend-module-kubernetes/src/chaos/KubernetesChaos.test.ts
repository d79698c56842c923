import { ConfigReader } from '@backstage/config';
import { FakeApiServer } from '../__testUtils__/FakeApiServer';
import { KubernetesChaos, readKubernetesChaosOptions } from './KubernetesChaos';

/*
 * The Kubernetes resilience gate against the API-server double: every request (method, path,
 * content type, token, body) as a real API server with Chaos Mesh's or LitmusChaos' CRDs would
 * receive it, for a fault going on both sides, the same fault again, the next one, and the clear.
 */

const context = { entityRef: 'component:default/checkout', releaseId: '5f0c2a9e-1111-2222-3333-444455556666', version: '2.0.0', annotations: {} };
const latency = { id: `${context.releaseId}/0`, ttlSeconds: 45, experiment: { name: 'dependency +200 ms', fault: 'dependencyLatency' as const, intensity: 200, durationSeconds: 15, recoverySeconds: 30 } };
const kill = { id: `${context.releaseId}/1`, ttlSeconds: 35, experiment: { name: 'kill', fault: 'instanceKill' as const, durationSeconds: 5, recoverySeconds: 30 } };

describe('KubernetesChaos', () => {
  const api = new FakeApiServer();
  let url: string;
  beforeAll(async () => {
    url = await api.start();
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
    api.objects.clear();
  });

  const chaos = (engine: 'chaos-mesh' | 'litmus', extra: object = {}) =>
    new KubernetesChaos(
      readKubernetesChaosOptions(
        new ConfigReader({
          type: 'kubernetes',
          cluster: 'prod',
          engine,
          namespace: 'shop',
          canaryLabels: { app: '${entityName}-canary' },
          stableLabels: { app: '${entityName}-gate' },
          dependency: 'inventory.shop.svc.cluster.local',
          load: { canaryUrl: 'http://checkout-canary.shop/', stableUrl: 'http://checkout-gate.shop/' },
          ...extra,
        }),
        'releases.targets.k8s.resilience',
        new ConfigReader({ kubernetes: { clusterLocatorMethods: [{ type: 'config', clusters: [{ name: 'prod', url, serviceAccountToken: 'sa-token', skipTLSVerify: true }] }] } }),
      ),
    );
  const NETWORK = '/apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos';
  const selected = (app: string) => ({ mode: 'all', selector: { namespaces: ['shop'], labelSelectors: { app } } });
  const metadata = (name: string) => ({ name, namespace: 'shop', labels: { 'release-pilot.io/release': context.releaseId, 'app.kubernetes.io/managed-by': 'release-pilot' } });

  it('Chaos Mesh: one NetworkChaos per side with the TTL as its duration, once; the next fault replaces it; clear deletes by label', async () => {
    const gate = chaos('chaos-mesh');
    await gate.inject(context, latency);
    await gate.inject(context, latency);
    const created = api.requests.filter(r => r.method === 'POST');
    expect(created).toEqual(
      (['canary', 'gate'] as const).map(app => ({
        method: 'POST',
        path: NETWORK,
        contentType: 'application/json',
        authorization: 'Bearer sa-token',
        body: {
          apiVersion: 'chaos-mesh.org/v1alpha1',
          kind: 'NetworkChaos',
          metadata: metadata(`rp-5f0c2a9e-0-${app === 'gate' ? 'stable' : 'canary'}`),
          spec: { ...selected(`checkout-${app}`), action: 'delay', delay: { latency: '200ms' }, direction: 'to', externalTargets: ['inventory.shop.svc.cluster.local'], duration: '45s' },
        },
      })),
    );
    api.requests.length = 0;
    await gate.inject(context, kill);
    expect(api.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      `GET ${NETWORK}?labelSelector=release-pilot.io%2Frelease%3D${context.releaseId}`,
      `DELETE ${NETWORK}/rp-5f0c2a9e-0-canary`,
      `DELETE ${NETWORK}/rp-5f0c2a9e-0-stable`,
      `GET /apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos?labelSelector=release-pilot.io%2Frelease%3D${context.releaseId}`,
      `GET /apis/chaos-mesh.org/v1alpha1/namespaces/shop/stresschaos?labelSelector=release-pilot.io%2Frelease%3D${context.releaseId}`,
      'POST /apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos',
      'POST /apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos',
    ]);
    expect(api.requests.at(-1)!.body.spec).toEqual({ ...selected('checkout-gate'), mode: 'one', action: 'pod-kill' });
    await gate.clear(context);
    expect([...api.objects.keys()]).toEqual([]);
  });

  it('a backend that restarted finds what a dead one left (409 on create is fine) and clears it', async () => {
    await chaos('chaos-mesh').inject(context, latency);
    const restarted = chaos('chaos-mesh');
    await restarted.inject(context, latency);
    expect(api.requests.filter(r => r.method === 'POST').length).toBe(4);
    await restarted.clear(context);
    expect([...api.objects.keys()]).toEqual([]);
  });

  it('LitmusChaos: a ChaosEngine per side; clear stops it (merge patch) and deletes it', async () => {
    const gate = chaos('litmus', { chaosServiceAccount: 'checkout-chaos' });
    await gate.inject(context, latency);
    const created = api.requests.filter(r => r.method === 'POST');
    expect(created[0]).toEqual({
      method: 'POST',
      path: '/apis/litmuschaos.io/v1alpha1/namespaces/shop/chaosengines',
      contentType: 'application/json',
      authorization: 'Bearer sa-token',
      body: {
        apiVersion: 'litmuschaos.io/v1alpha1',
        kind: 'ChaosEngine',
        metadata: metadata('rp-5f0c2a9e-0-canary'),
        spec: {
          engineState: 'active',
          appinfo: { appns: 'shop', applabel: 'app=checkout-canary', appkind: 'deployment' },
          chaosServiceAccount: 'checkout-chaos',
          jobCleanUpPolicy: 'delete',
          experiments: [
            {
              name: 'pod-network-latency',
              spec: { components: { env: [{ name: 'TOTAL_CHAOS_DURATION', value: '45' }, { name: 'NETWORK_LATENCY', value: '200' }, { name: 'DESTINATION_HOSTS', value: 'inventory.shop.svc.cluster.local' }] } },
            },
          ],
        },
      },
    });
    api.requests.length = 0;
    await gate.clear(context);
    const engine = '/apis/litmuschaos.io/v1alpha1/namespaces/shop/chaosengines/rp-5f0c2a9e-0-canary';
    expect(api.requests.slice(1, 3)).toEqual([
      { method: 'PATCH', path: engine, contentType: 'application/merge-patch+json', authorization: 'Bearer sa-token', body: { spec: { engineState: 'stop' } } },
      { method: 'DELETE', path: engine, contentType: 'application/json', authorization: 'Bearer sa-token', body: undefined },
    ]);
    expect([...api.objects.keys()]).toEqual([]);
  });

  it('maps memory pressure and a pause: StressChaos memory, PodChaos pod-failure; Litmus pod-memory-hog, and no pause', async () => {
    const memory = { ...latency, experiment: { ...latency.experiment, fault: 'memoryPressure' as const, intensity: 40 } };
    const pause = { ...latency, id: `${context.releaseId}/2`, experiment: { ...latency.experiment, fault: 'instancePause' as const, intensity: undefined } };
    await chaos('chaos-mesh').inject(context, memory);
    expect(api.requests.at(-1)).toMatchObject({ path: '/apis/chaos-mesh.org/v1alpha1/namespaces/shop/stresschaos', body: { kind: 'StressChaos', spec: { stressors: { memory: { workers: 1, size: '40%' } }, duration: '45s' } } });
    await chaos('chaos-mesh').inject(context, pause);
    expect(api.requests.at(-1)).toMatchObject({ path: '/apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos', body: { kind: 'PodChaos', spec: { action: 'pod-failure', duration: '45s', mode: 'all' } } });
    await chaos('litmus').inject(context, { ...memory, id: `${context.releaseId}/3` });
    expect(api.requests.at(-1)!.body.spec.experiments).toEqual([
      { name: 'pod-memory-hog', spec: { components: { env: [{ name: 'TOTAL_CHAOS_DURATION', value: '45' }, { name: 'MEMORY_PERCENTAGE', value: '40' }] } } },
    ]);
    await expect(chaos('litmus').inject(context, { ...pause, id: `${context.releaseId}/4` })).rejects.toThrow('LitmusChaos has no experiment for instancePause');
  });

  it('says what it cannot do, and what the API server refused', async () => {
    const errors = { ...latency, experiment: { ...latency.experiment, fault: 'dependencyErrors' as const, intensity: 0.5 } };
    await expect(chaos('chaos-mesh').inject(context, errors)).rejects.toThrow('Chaos Mesh has no fault for dependencyErrors');
    await expect(chaos('chaos-mesh', { dependency: undefined }).inject(context, latency)).rejects.toThrow('needs the target\'s resilience.dependency');
    api.status = 403;
    await expect(chaos('litmus').inject(context, kill)).rejects.toThrow(/creating ChaosEngine shop\/rp-5f0c2a9e-1-canary failed with HTTP 403/);
    api.status = undefined;
    expect(() => chaos('chaos-mesh', { canaryLabels: {} })).toThrow('canaryLabels');
  });
});
