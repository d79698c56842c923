import { ConfigReader } from '@backstage/config';
import { FakeApiServer, rollOut } from './__testUtils__/FakeApiServer';
import { readKubernetesDeployerOptions, readKubernetesRouterOptions } from './config';
import { KubernetesDeployer } from './KubernetesDeployer';
import { KubernetesTrafficRouter } from './KubernetesTrafficRouter';

/*
 * The deployer and the router against the API-server double, through the calls the driver makes
 * for one release (the engine's order: canary deployed at 0 %, steps, stable promoted while the
 * canary serves 100 %, traffic back, canary scaled down), checking every request in order.
 */

const ROUTE = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/checkout';
const STABLE = '/apis/apps/v1/namespaces/shop/deployments/checkout-stable';
const CANARY = '/apis/apps/v1/namespaces/shop/deployments/checkout-canary';
const IMAGE = (v: string) => `registry.example.com/checkout:${v}`;

const deployment = (name: string, replicas: number, version: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', generation: 4 },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'checkout', image: IMAGE(version) }, { name: 'proxy', image: 'envoy:1.30' }] } } },
  status: { observedGeneration: 4, replicas, updatedReplicas: replicas, availableReplicas: replicas },
});

describe('KubernetesDeployer', () => {
  const api = new FakeApiServer();
  let url: string;
  beforeAll(async () => {
    url = await api.start();
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
    api.objects.clear();
    api.objects.set(ROUTE, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '1' },
      spec: { rules: [{ backendRefs: [{ name: 'checkout-stable', port: 80, weight: 100 }, { name: 'checkout-canary', port: 80, weight: 0 }] }] },
    });
    api.objects.set(STABLE, deployment('checkout-stable', 3, '1.4.1'));
    api.objects.set(CANARY, deployment('checkout-canary', 0, '1.4.1'));
  });

  const root = () =>
    new ConfigReader({
      kubernetes: { clusterLocatorMethods: [{ type: 'config', clusters: [{ name: 'prod', url, authProvider: 'serviceAccount', serviceAccountToken: 'sa-token', skipTLSVerify: true }] }] },
    });
  const parts = () => ({
    router: new KubernetesTrafficRouter(readKubernetesRouterOptions(new ConfigReader({ type: 'gateway-api', cluster: 'prod', namespace: 'shop' }), 'releases.targets.k8s.router', root())),
    deployer: new KubernetesDeployer(
      readKubernetesDeployerOptions(
        new ConfigReader({ type: 'kubernetes', cluster: 'prod', namespace: 'shop', container: 'checkout', image: 'registry.example.com/checkout:${version}', canaryReplicas: 2 }),
        'releases.targets.k8s.deployer',
        root(),
      ),
    ),
  });
  const context = { entityRef: 'component:default/checkout', releaseId: 'r', version: '1.4.2', annotations: {} };

  /** Each request as `METHOD path` plus, for patches, the body (route patches: the weights they set). */
  const sent = () =>
    api.requests.map(r => {
      const line = `${r.authorization === 'Bearer sa-token' ? '' : 'UNAUTHENTICATED '}${r.method} ${r.path.split('?')[0]}`;
      if (r.method !== 'PATCH') return line;
      if (r.path.startsWith(ROUTE)) return `${line} weights ${r.body.filter((op: any) => op.op === 'replace').map((op: any) => op.value).join('/')}`;
      return `${line} ${r.contentType} ${JSON.stringify(r.body)}`;
    });

  const setWeight = async (router: KubernetesTrafficRouter, weight: number) => router.setCanaryWeight(context, weight);
  /** The driver's deployer call: the router's weight first (the traffic guard), then the operation. */
  const deploy = async (p: ReturnType<typeof parts>, side: 'canary' | 'stable') => {
    await p.router.getCanaryWeight(context);
    return p.deployer.ensure(context, side, '1.4.2');
  };

  it('a successful release: the canary deployed at 0 % and scaled up, the steps, the stable side promoted, the canary scaled to 0', async () => {
    const p = parts();
    expect(await p.deployer.readSides(context)).toEqual({ stable: '1.4.1', canary: undefined, canaryUp: false });
    await setWeight(p.router, 0);
    const first = await deploy(p, 'canary');
    expect(first).toEqual({ done: false, progress: 'waiting for the Deployment controller to observe the change', sides: { canary: '1.4.2' } });
    rollOut(api, CANARY);
    expect(await deploy(p, 'canary')).toEqual({ done: true, progress: '2 of 2 replicas updated, 2 available', sides: { canary: '1.4.2' } });
    for (const weight of [10, 50, 100]) await setWeight(p.router, weight);
    expect((await deploy(p, 'stable')).done).toBe(false);
    rollOut(api, STABLE);
    expect(await deploy(p, 'stable')).toEqual({ done: true, progress: '3 of 3 replicas updated, 3 available', sides: { stable: '1.4.2' } });
    await setWeight(p.router, 0);
    await p.router.getCanaryWeight(context);
    expect((await p.deployer.scaleDownCanary(context)).done).toBe(false);
    rollOut(api, CANARY);
    await p.router.getCanaryWeight(context);
    expect(await p.deployer.scaleDownCanary(context)).toEqual({ done: true, progress: 'canary scaled down', sides: { canaryUp: false } });
    expect(await p.deployer.readSides(context)).toEqual({ stable: '1.4.2', canary: undefined, canaryUp: false });

    const image = (v: string) => ({ template: { spec: { containers: [{ name: 'checkout', image: IMAGE(v) }] } } });
    expect(sent()).toEqual([
      `GET ${STABLE}`, `GET ${CANARY}`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 0/100`,
      `GET ${ROUTE}`, `GET ${CANARY}`, `PATCH ${CANARY} application/strategic-merge-patch+json ${JSON.stringify({ spec: { replicas: 2, ...image('1.4.2') } })}`,
      `GET ${ROUTE}`, `GET ${CANARY}`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 10/90`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 50/50`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 100/0`,
      `GET ${ROUTE}`, `GET ${STABLE}`, `PATCH ${STABLE} application/strategic-merge-patch+json ${JSON.stringify({ spec: image('1.4.2') })}`,
      `GET ${ROUTE}`, `GET ${STABLE}`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 0/100`,
      `GET ${ROUTE}`, `GET ${CANARY}`, `PATCH ${CANARY} application/strategic-merge-patch+json ${JSON.stringify({ spec: { replicas: 0 } })}`,
      `GET ${ROUTE}`, `GET ${CANARY}`,
      `GET ${STABLE}`, `GET ${CANARY}`,
    ]);
    // The other container of the pod template is left alone.
    expect(api.objects.get(STABLE).spec.template.spec.containers[1].image).toBe('envoy:1.30');
  });

  it('a rolled-back release: the canary deployed at 0 %, one step, weight 0 and the canary scaled down; the stable side is never patched', async () => {
    const p = parts();
    await p.deployer.readSides(context);
    await setWeight(p.router, 0);
    await deploy(p, 'canary');
    rollOut(api, CANARY);
    await deploy(p, 'canary');
    await setWeight(p.router, 10);
    await setWeight(p.router, 0);
    await p.router.getCanaryWeight(context);
    await p.deployer.scaleDownCanary(context);
    rollOut(api, CANARY);
    await p.router.getCanaryWeight(context);
    expect((await p.deployer.scaleDownCanary(context)).done).toBe(true);
    expect(sent()).toEqual([
      `GET ${STABLE}`, `GET ${CANARY}`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 0/100`,
      `GET ${ROUTE}`, `GET ${CANARY}`, `PATCH ${CANARY} application/strategic-merge-patch+json ${JSON.stringify({ spec: { replicas: 2, template: { spec: { containers: [{ name: 'checkout', image: IMAGE('1.4.2') }] } } } })}`,
      `GET ${ROUTE}`, `GET ${CANARY}`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 10/90`,
      `GET ${ROUTE}`, `PATCH ${ROUTE} weights 0/100`,
      `GET ${ROUTE}`, `GET ${CANARY}`, `PATCH ${CANARY} application/strategic-merge-patch+json ${JSON.stringify({ spec: { replicas: 0 } })}`,
      `GET ${ROUTE}`, `GET ${CANARY}`,
    ]);
    expect(api.objects.get(STABLE).spec.template.spec.containers[0].image).toBe(IMAGE('1.4.1'));
  });

  it('repeating a call after a crash patches nothing more; a missing container or Deployment says what is wrong', async () => {
    const p = parts();
    await p.deployer.ensure(context, 'canary', '1.4.2');
    api.requests.length = 0;
    await p.deployer.ensure(context, 'canary', '1.4.2');
    expect(sent()).toEqual([`GET ${CANARY}`]);
    api.objects.delete(STABLE);
    await expect(p.deployer.ensure(context, 'stable', '1.4.2')).rejects.toThrow(/reading Deployment shop\/checkout-stable failed with HTTP 404 \(does it exist in that namespace\?\)/);
    api.objects.set(STABLE, { ...deployment('checkout-stable', 3, '1.4.1'), spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'x' }] } } } });
    await expect(p.deployer.readSides(context)).rejects.toThrow("The stable Deployment shop/checkout-stable has no container 'checkout'");
  });

  it('names the bad key of its config', () => {
    const read = (block: object) => readKubernetesDeployerOptions(new ConfigReader(block), 'releases.targets.k8s.deployer', root());
    expect(() => read({ type: 'kubernetes', cluster: 'prod', container: 'c', image: 'reg/x:latest' })).toThrow(/releases.targets.k8s.deployer.image: the image must contain \$\{version\}/);
    expect(() => read({ type: 'kubernetes', cluster: 'prod', image: 'reg/x:${version}' })).toThrow(/releases.targets.k8s.deployer.container/);
    expect(() => read({ type: 'kubernetes', cluster: 'prod', container: 'c', image: 'reg/x:${version}', canaryReplicas: 0 })).toThrow(/canaryReplicas/);
  });
});
