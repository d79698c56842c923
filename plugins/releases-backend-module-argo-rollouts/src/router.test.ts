import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
// The module inside the plugin it extends: a test of the two together.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import releasesBackend from '@release-pilot/plugin-releases-backend';
import request from 'supertest';
import argoRolloutsModule from './index';
import { KubeApiDouble, pausedRollout } from './__testUtils__/KubeApiDouble';

jest.setTimeout(60_000);

const OWNER = 'user:default/olivia';
const OTHER = 'user:default/mallory';

const component = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

let api: KubeApiDouble;
beforeEach(() => {
  api = new KubeApiDouble();
});
afterEach(() => api.stop());

async function startBackend() {
  const url = await api.start();
  pausedRollout(api);
  const audited: Array<[string, string]> = [];
  const auditor = mockServices.auditor.mock();
  auditor.createEvent.mockImplementation(async created => ({
    success: async () => void audited.push([created.eventId, 'success']),
    fail: async () => void audited.push([created.eventId, 'fail']),
  }));
  const { server } = await startTestBackend({
    features: [
      releasesBackend,
      argoRolloutsModule,
      auditor.factory,
      catalogServiceMock.factory({
        entities: [
          component('checkout', { 'release-pilot.io/argo-rollout': 'checkout', 'release-pilot.io/argo-rollout-namespace': 'shop' }),
          // An owner naming another team's Rollout, or a namespace not allowed.
          component('search', { 'release-pilot.io/argo-rollout': 'checkout', 'release-pilot.io/argo-rollout-namespace': 'shop' }),
          component('payments', { 'release-pilot.io/argo-rollout': 'payments', 'release-pilot.io/argo-rollout-namespace': 'kube-system' }),
          component('legacy', {}),
        ],
      }),
      mockServices.permissions.mock({
        authorize: (async (requests: Array<{ permission: { name: string }; resourceRef?: string }>, { credentials }: any) =>
          requests.map(r => ({
            result: !r.resourceRef || credentials.principal.userEntityRef === OWNER ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
          }))) as any,
      }).factory,
      mockServices.rootConfig.factory({
        data: { releases: { argoRollouts: { cluster: { url, serviceAccountToken: 'sa-token' }, namespace: 'default', allowNamespaces: ['shop'] } } },
      }),
    ],
  });
  const act = (action: string, body: object, user = OWNER) =>
    request(server).post(`/api/releases/argo-rollouts/${action}`).set('Authorization', mockCredentials.user.header(user)).send(body);
  const view = (entityRef: string) => request(server).get('/api/releases/argo-rollouts').query({ entityRef }).set('Authorization', mockCredentials.user.header(OWNER));
  return { act, view, audited };
}

const patches = () => api.requests.filter(r => r.method === 'PATCH');

describe('/api/releases/argo-rollouts', () => {
  it("shows the entity's Rollout, and an entity without one gets a 404 that says what to add", async () => {
    const { view } = await startBackend();
    const res = await view('component:default/checkout');
    expect(res.status).toBe(200);
    expect(res.body.rollout).toMatchObject({ name: 'checkout', namespace: 'shop', canaryWeight: 20, paused: true, summary: expect.stringMatching(/^Paused at step 2 of 5/) });
    const none = await view('component:default/legacy');
    expect(none.status).toBe(404);
    expect(none.body.error.message).toMatch(/no release-pilot\.io\/argo-rollout annotation/);
    expect((await view('')).status).toBe(400);
    expect((await view('x'.repeat(400))).status).toBe(400);
    expect((await view('component:default/nowhere')).status).toBe(404);
  });

  it('the owner promotes: the requests kubectl argo rollouts sends, the new state in the answer, an audit event', async () => {
    const { act, audited } = await startBackend();
    const res = await act('promote', { entityRef: 'component:default/checkout', reason: 'looks good' });
    expect(res.status).toBe(200);
    expect(res.body.message).toBe("rollout 'checkout' promoted");
    expect(res.body.rollout.paused).toBe(false);
    expect(patches()).toEqual([
      expect.objectContaining({ path: '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status', body: '{"status":{"pauseConditions":null}}' }),
    ]);
    expect(audited).toEqual([['argo-rollout-promote', 'success']]);
  });

  it('a caller who does not own the entity is refused before anything reaches the cluster', async () => {
    const { act, audited } = await startBackend();
    for (const action of ['promote', 'promote-full', 'abort', 'retry', 'undo']) {
      const res = await act(action, { entityRef: 'component:default/checkout' }, OTHER);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/^Not allowed: releases\.release\.(promote|rollback|create) on component:default\/checkout$/);
    }
    expect(api.requests).toEqual([]);
    expect(audited.map(([, outcome]) => outcome)).toEqual(['fail', 'fail', 'fail', 'fail', 'fail']);
  });

  it("an entity only touches its own Rollout: another's name or a namespace not allowed is refused, nothing sent", async () => {
    const { act } = await startBackend();
    const other = await act('abort', { entityRef: 'component:default/search' });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/'checkout' is not a Rollout component:default\/search may name/);
    const namespace = await act('abort', { entityRef: 'component:default/payments' });
    expect(namespace.status).toBe(403);
    expect(namespace.body.error.message).toMatch(/'kube-system' is not an allowed namespace/);
    expect(api.requests).toEqual([]);
  });

  it('bad input and impossible actions: a 4xx that says why, and no patch', async () => {
    const { act } = await startBackend();
    expect((await act('restart', { entityRef: 'component:default/checkout' })).status).toBe(400);
    expect((await act('promote', { entityRef: 'component:default/checkout', extra: 1 })).status).toBe(400);
    expect((await act('promote', {})).status).toBe(400);
    const retry = await act('retry', { entityRef: 'component:default/checkout' });
    expect(retry.status).toBe(409);
    expect(retry.body.error.message).toBe('Cannot retry shop/checkout: Only an aborted Rollout can be retried');
    expect(patches()).toEqual([]);
  });
});
