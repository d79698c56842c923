import { ArgoRollouts, selectorString } from './ArgoRollouts';
import { readArgoRolloutsOptions } from './config';
import { ConfigReader } from '@backstage/config';
import { KubeApi } from './KubeApi';
import { rolloutView } from './rolloutView';
import { KubeApiDouble, KubeRequest, pausedRollout } from './__testUtils__/KubeApiDouble';

/*
 * The requests of each action, as argoproj/argo-rollouts sends them from
 * pkg/kubectl-argo-rollouts/cmd/{promote,abort,retry,undo}/*.go: the same method, path, patch type
 * and body bytes (the patch strings there, e.g. `{"status":{"pauseConditions":null, "currentStepIndex":%d}}`).
 */

const ROLLOUT = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout';
const ref = { namespace: 'shop', name: 'checkout' };
const auth = 'Bearer sa-token';
const get = (path: string): KubeRequest => ({ method: 'GET', path, authorization: auth });
const merge = (path: string, body: string): KubeRequest => ({ method: 'PATCH', path, contentType: 'application/merge-patch+json', authorization: auth, body });

let api: KubeApiDouble;
let rollouts: ArgoRollouts;
beforeEach(async () => {
  api = new KubeApiDouble();
  const url = await api.start();
  const options = readArgoRolloutsOptions(new ConfigReader({ releases: { argoRollouts: { cluster: { url, serviceAccountToken: 'sa-token' } } } }))!;
  rollouts = new ArgoRollouts(new KubeApi(options));
  pausedRollout(api);
});
afterEach(() => api.stop());

const rollout = () => api.objects.get(ROLLOUT);
const setRollout = (change: (r: any) => void) => {
  const r = structuredClone(rollout());
  change(r);
  api.objects.set(ROLLOUT, r);
};

describe('the actions send what kubectl argo rollouts sends', () => {
  it('promote at a pause step: GET, then clear the pause conditions on the status subresource', async () => {
    expect(await rollouts.act(ref, 'promote')).toBe("rollout 'checkout' promoted");
    expect(api.requests).toEqual([get(ROLLOUT), merge(`${ROLLOUT}/status`, '{"status":{"pauseConditions":null}}')]);
    expect(rollout().status.pauseConditions).toBeUndefined();
  });

  it('promote of a paused Rollout without pause conditions: the next step on the status, then unpause the spec', async () => {
    setRollout(r => {
      r.spec.paused = true;
      delete r.status.pauseConditions;
    });
    await rollouts.act(ref, 'promote');
    expect(api.requests).toEqual([
      get(ROLLOUT),
      merge(`${ROLLOUT}/status`, '{"status":{"pauseConditions":null, "currentStepIndex":2}}'),
      merge(ROLLOUT, '{"spec":{"paused":false}}'),
    ]);
    expect([rollout().status.currentStepIndex, rollout().spec.paused]).toEqual([2, false]);
  });

  it('promote on a cluster without the status subresource: the unified patch on the Rollout (Argo Rollouts v0.9)', async () => {
    api.statusSubresource = false;
    setRollout(r => {
      r.spec.paused = true;
      delete r.status.pauseConditions;
    });
    await rollouts.act(ref, 'promote');
    expect(api.requests).toEqual([
      get(ROLLOUT),
      merge(`${ROLLOUT}/status`, '{"status":{"pauseConditions":null, "currentStepIndex":2}}'),
      merge(ROLLOUT, '{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":2}}'),
    ]);
  });

  it('promote --full: promoteFull on the status, and nothing at all when the canary is the stable one', async () => {
    expect(await rollouts.act(ref, 'promote-full')).toBe("rollout 'checkout' fully promoted");
    expect(api.requests).toEqual([get(ROLLOUT), merge(`${ROLLOUT}/status`, '{"status":{"promoteFull":true}}')]);
    api.requests.length = 0;
    setRollout(r => (r.status.currentPodHash = r.status.stableRS));
    await rollouts.act(ref, 'promote-full');
    expect(api.requests).toEqual([get(ROLLOUT)]);
  });

  it('abort and retry: one status patch each, and the same patch on the Rollout when there is no status subresource', async () => {
    await rollouts.act(ref, 'abort');
    await rollouts.act(ref, 'retry');
    expect(api.requests).toEqual([merge(`${ROLLOUT}/status`, '{"status":{"abort":true}}'), merge(`${ROLLOUT}/status`, '{"status":{"abort":false}}')]);
    api.requests.length = 0;
    api.statusSubresource = false;
    await rollouts.act(ref, 'abort');
    expect(api.requests).toEqual([merge(`${ROLLOUT}/status`, '{"status":{"abort":true}}'), merge(ROLLOUT, '{"status":{"abort":true}}')]);
  });

  it("undo: the Rollout, its ReplicaSets by selector, then the previous revision's pod template without the hash label", async () => {
    expect(await rollouts.act(ref, 'undo')).toBe("rollout 'checkout' undo");
    expect(api.requests.slice(0, 2)).toEqual([get(ROLLOUT), get('/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dcheckout')]);
    const patch = api.requests[2];
    expect({ ...patch, body: JSON.parse(patch.body!) }).toEqual({
      method: 'PATCH',
      path: ROLLOUT,
      contentType: 'application/json-patch+json',
      authorization: auth,
      body: [{ op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image: 'registry.example.com/checkout:2.0.0' }] } } }],
    });
    expect(Object.keys(JSON.parse(patch.body!)[0])).toEqual(['op', 'path', 'value']);
    // Undone once, the template matches the previous revision: a second undo patches nothing.
    api.requests.length = 0;
    expect(await rollouts.act(ref, 'undo')).toMatch(/^skipped rollback/);
    expect(api.requests.map(r => r.method)).toEqual(['GET', 'GET']);
  });

  it('writes label selectors as Kubernetes does: requirements sorted by key', () => {
    expect(selectorString({ matchLabels: { tier: 'web', app: 'checkout' } })).toBe('app=checkout,tier=web');
    expect(selectorString({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }, { key: 'beta', operator: 'DoesNotExist' }] })).toBe('!beta,env in (canary,prod)');
  });
});

describe('the Rollout in Release Pilot words', () => {
  it('a paused canary: its steps, where it stands, both sides, the analysis and what can be done', async () => {
    const r = await rollouts.getRollout(ref);
    const view = rolloutView(r, await rollouts.replicaSets(r), await rollouts.analysisRuns(r));
    expect(view).toMatchObject({
      name: 'checkout',
      namespace: 'shop',
      strategy: 'canary',
      phase: 'Paused',
      summary: 'Paused at step 2 of 5 with 20 % of traffic on the canary (registry.example.com/checkout:2.1.0), until someone promotes it.',
      currentStepIndex: 1,
      canaryWeight: 20,
      paused: true,
      aborted: false,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-12-07T10:00:00Z' }],
      stable: { replicaSet: 'checkout-5b7c9d8f46', revision: 3, images: ['registry.example.com/checkout:2.0.0'], replicas: 4, ready: 4 },
      canary: { replicaSet: 'checkout-6d8f9c7b54', revision: 4, images: ['registry.example.com/checkout:2.1.0'], replicas: 1, ready: 1 },
    });
    expect(view.steps.map(s => s.text)).toEqual([
      'send 20 % of traffic to the canary',
      'pause until someone promotes it',
      'send 50 % of traffic to the canary',
      'run the analysis success-rate',
      'pause 10m',
    ]);
    expect(view.analysisRuns).toEqual([
      expect.objectContaining({ name: 'checkout-6d8f9c7b54-4-1', phase: 'Running', metrics: [expect.objectContaining({ name: 'success-rate', successful: 2, measurements: expect.arrayContaining([expect.objectContaining({ value: '0.995' })]) })] }),
    ]);
    expect(Object.fromEntries(Object.entries(view.actions).map(([k, v]) => [k, v.possible]))).toEqual({ promote: true, 'promote-full': true, abort: true, retry: false, undo: true });
  });

  it('aborted: all traffic on stable; only retry, promote --full and undo remain', async () => {
    await rollouts.act(ref, 'abort');
    const r = await rollouts.getRollout(ref);
    delete r.status.canary;
    const view = rolloutView(r, await rollouts.replicaSets(r), []);
    expect(view.summary).toBe('Aborted: all traffic is back on the stable version (registry.example.com/checkout:2.0.0). Retry to release registry.example.com/checkout:2.1.0 again, or undo to put the previous version back.');
    expect(view.canaryWeight).toBe(0);
    expect(Object.fromEntries(Object.entries(view.actions).map(([k, v]) => [k, v.possible]))).toEqual({ promote: false, 'promote-full': true, abort: false, retry: true, undo: true });
  });
});
