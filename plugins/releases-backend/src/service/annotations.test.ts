import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { emptyTrafficStats } from '@release-pilot/plugin-releases-common';
import { patternRule, releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import request from 'supertest';
import { releasesPlugin } from '../plugin';

/*
 * Entity annotations that a target's providers read reach no router, query or command unless they
 * pass the providers' rules: a release of an entity whose annotation breaks one is refused (400)
 * before anything reads it, and the entity page hears what to fix.
 */

jest.setTimeout(60_000);

const NAME = patternRule(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits and . _ - :, 1 to 64 characters');
const router = {
  annotationRules: [{ annotation: 'release-pilot.io/test-backend', rule: NAME, default: '${entityName}', claim: 'backend' }],
  setCanaryWeight: jest.fn(async () => undefined),
  getCanaryWeight: jest.fn(async () => 0),
};
const metrics = {
  annotationRules: [{ annotation: 'release-pilot.io/test-selector', rule: NAME }],
  getSample: jest.fn(async () => ({ from: '', to: '', canary: emptyTrafficStats(), baseline: emptyTrafficStats() })),
};

/** A target `vm` whose router and metric provider read an annotation each, and record every call. */
const recordingTarget = createBackendModule({
  pluginId: 'releases',
  moduleId: 'recording-target',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addTarget({ name: 'vm', trafficRouter: router, metricProvider: metrics });
      },
    });
  },
});

const component = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

const HOSTILE = 'checkout; set server checkout/stable weight 0';

/** Entities may set the backend to their own name with a suffix, unless a test allows any. */
async function startBackend(allowRead = true, allowBackends = ['${entityName}-*']) {
  const { server } = await startTestBackend({
    features: [
      releasesPlugin,
      recordingTarget,
      catalogServiceMock.factory({
        entities: [
          // checkout's backend is the target's default, its own name; web names its own with a template.
          component('checkout', { 'release-pilot.io/target': 'vm' }),
          component('web', { 'release-pilot.io/target': 'vm', 'release-pilot.io/test-backend': '${entityName}-web' }),
          component('hostile', { 'release-pilot.io/target': 'vm', 'release-pilot.io/test-backend': HOSTILE }),
          component('elsewhere', { 'release-pilot.io/target': 'k8s', 'release-pilot.io/risk-threshold': '85%' }),
          // The owner of thief aims its releases at checkout's backend, and at a selector it may not set at all.
          component('thief', { 'release-pilot.io/target': 'vm', 'release-pilot.io/test-backend': 'checkout' }),
          component('snoop', { 'release-pilot.io/target': 'vm', 'release-pilot.io/test-selector': 'checkout' }),
        ],
      }),
      mockServices.rootConfig.factory({
        data: { releases: { engine: { tickSeconds: 3600 }, targets: { vm: { allow: { 'test-backend': allowBackends } } } } },
      }),
      ...(allowRead
        ? []
        : [
            mockServices.permissions.mock({
              authorize: async requests => requests.map(r => ({ result: r.permission.name === 'releases.release.read' ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })),
            }).factory,
          ]),
    ],
  });
  return server;
}

const user = mockCredentials.user.header('user:default/alice');
const expectedProblem = `release-pilot.io/test-backend: '${HOSTILE}' is not allowed; use letters, digits and . _ - :, 1 to 64 characters.`;
const notAllowedProblem = (ref: string, value: string) =>
  `release-pilot.io/test-backend: '${value}' is not a value target 'vm' allows ${ref} (allowed: \${entityName}-*).`;

describe('entity annotations that providers read', () => {
  beforeEach(() => jest.clearAllMocks());

  it('refuses a release whose annotation breaks its target\'s rule before any router or metrics call, and stores nothing', async () => {
    const server = await startBackend();
    for (const path of ['/api/releases/releases', '/api/releases/risk/assess']) {
      const refused = await request(server).post(path).set('Authorization', user).send({ entityRef: 'component:default/hostile', version: '2.0.0' });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toBe(
        `Entity component:default/hostile has annotations target 'vm' cannot use: ${expectedProblem} ${notAllowedProblem('component:default/hostile', HOSTILE)}`,
      );
    }
    expect(router.getCanaryWeight).not.toHaveBeenCalled();
    expect(router.setCanaryWeight).not.toHaveBeenCalled();
    expect(metrics.getSample).not.toHaveBeenCalled();
    expect((await request(server).get('/api/releases/releases').set('Authorization', user)).body.totalCount).toBe(0);
    // A template the rule accepts once filled in is fine.
    expect((await request(server).post('/api/releases/releases').set('Authorization', user).send({ entityRef: 'web', version: '2.0.0' })).status).toBe(201);
  });

  it('tells the entity page what to fix: provider rules, unknown names and thresholds; nothing for a good entity', async () => {
    const server = await startBackend();
    const problems = (ref: string) => request(server).get('/api/releases/annotations/problems').query({ entityRef: ref }).set('Authorization', user);
    expect((await problems('component:default/hostile')).body).toEqual({ problems: [expectedProblem, notAllowedProblem('component:default/hostile', HOSTILE)] });
    expect((await problems('checkout')).body).toEqual({ problems: [] });
    expect((await problems('web')).body).toEqual({ problems: [] });
    expect((await problems('elsewhere')).body.problems).toEqual([
      "release-pilot.io/target: 'k8s' is not a configured target (known: vm). Fix the annotation in catalog-info.yaml, or add releases.targets.k8s to app-config.",
      "release-pilot.io/risk-threshold: '85%' is not a probability; use a number above 0 and at most 1, e.g. '0.7'.",
    ]);
    expect((await problems('nobody')).status).toBe(404);
    const bad = await problems('component:default/');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid query: ✖ not an entity ref: .*→ at entityRef$/);
  });

  it('lets no entity aim its releases at another entity\'s backend: outside its allowed values 400, on a value another entity resolves to 409; no provider call either way', async () => {
    const server = await startBackend();
    const start = (ref: string) => request(server).post('/api/releases/releases').set('Authorization', user).send({ entityRef: ref, version: '2.0.0' });
    const outside = await start('thief');
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toContain(notAllowedProblem('component:default/thief', 'checkout'));
    const unset = await start('snoop');
    expect(unset.status).toBe(400);
    expect(unset.body.error.message).toContain(
      "release-pilot.io/test-selector: target 'vm' does not let entities set it; its own config decides (releases.targets.vm.allow.test-selector lists the values an entity may set).",
    );

    // A target that lets entities name any backend still refuses one that another entity resolves to.
    const lenient = await startBackend(true, ['*']);
    const taken = await request(lenient).post('/api/releases/releases').set('Authorization', user).send({ entityRef: 'thief', version: '2.0.0' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toBe(
      "Entity component:default/thief would release into another entity's traffic: release-pilot.io/test-backend=checkout is what component:default/checkout resolves to on target 'vm'. Point its annotations at its own.",
    );
    const page = await request(lenient).get('/api/releases/annotations/problems').query({ entityRef: 'thief' }).set('Authorization', user);
    expect(page.body.problems).toEqual([
      "release-pilot.io/test-backend=checkout is what component:default/checkout resolves to on target 'vm': another entity's traffic; point the annotations at this entity's own.",
    ]);
    // The entity whose own name it is can still release: the thief's annotation does not lock it out.
    expect((await request(lenient).post('/api/releases/releases').set('Authorization', user).send({ entityRef: 'checkout', version: '2.0.0' })).status).toBe(201);
    expect(router.getCanaryWeight).not.toHaveBeenCalled();
    expect(router.setCanaryWeight).not.toHaveBeenCalled();
    expect(metrics.getSample).not.toHaveBeenCalled();
  });

  it('answers the entity page only for a caller who may read releases', async () => {
    const server = await startBackend(false);
    const denied = await request(server).get('/api/releases/annotations/problems').query({ entityRef: 'checkout' }).set('Authorization', user);
    expect(denied.status).toBe(403);
  });
});
