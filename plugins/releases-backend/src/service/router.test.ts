import { mockCredentials, mockServices, startTestBackend, TestDatabaseId } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const component = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

const entities = [
  component('checkout', { 'release-pilot.io/target': 'simulator' }),
  component('recommendations', { 'release-pilot.io/target': 'simulator', 'release-pilot.io/plan': 'careful' }),
  component('legacy'),
  component('elsewhere', { 'release-pilot.io/target': 'kubernetes' }),
  component('strict', { 'release-pilot.io/target': 'simulator', 'release-pilot.io/judge': 'strict' }),
  component('ghost', { 'release-pilot.io/target': 'simulator', 'release-pilot.io/analysis': 'ghost' }),
  component('payments', { 'release-pilot.io/target': 'simulator' }),
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'team-checkout', namespace: 'default' },
    spec: { type: 'team', children: ['team-checkout-payments'] },
    relations: [{ type: 'parentOf', targetRef: 'group:default/team-checkout-payments' }],
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'team-checkout-payments', namespace: 'default' },
    spec: { type: 'team', children: [] },
  },
];

/** A change the prior calls risky: huge, breaking, three major upgrades, little coverage. */
const RISKY = { linesAdded: 18000, linesDeleted: 2000, filesChanged: 400, breaking: true, majorDependencyChanges: 3, coverage: 20 };

const databases = createTestDatabases();
let databaseId: TestDatabaseId = 'SQLITE_3';

async function startBackend(extraFeatures: Parameters<typeof startTestBackend>[0]['features'] = []) {
  const { server } = await startTestBackend({
    features: [
      mockServices.database.factory({ knex: await databases.init(databaseId), migrations: { skip: false } }),
      ...(extraFeatures ?? []),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          releases: {
            // The driver is tested on its own; keep it out of the way of the API tests.
            engine: { tickSeconds: 3600 },
            simulator: {},
            judges: { strict: { type: 'sequential', alpha: 0.001 } },
            plans: {
              careful: { steps: [{ weight: 5, minDurationSeconds: 60 }, { weight: 100, minDurationSeconds: 60 }] },
            },
          },
        },
      }),
    ],
  });
  return server;
}

describe.each(databases.eachSupportedId())('releases router on %s', dbId => {
  beforeAll(() => {
    databaseId = dbId;
  });

  it('answers /health without credentials, naming the replica that answered', async () => {
    const server = await startBackend();
    const health = await request(server).get('/api/releases/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', replica: expect.stringMatching(/^releases-[0-9a-f-]{36}$/) });
  });

  it('creates a release with the default plan, lists it and shows its details', async () => {
    const server = await startBackend();
    const created = await request(server)
      .post('/api/releases/releases')
      .set('Authorization', mockCredentials.user.header('user:default/alice'))
      .send({ entityRef: 'component:default/checkout', version: '2.0.0', metadata: { commit: 'abc123' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      entityRef: 'component:default/checkout',
      version: '2.0.0',
      state: 'pending',
      createdBy: 'user:default/alice',
      metadata: { commit: 'abc123' },
    });
    expect(created.body.plan.steps.map((s: { weight: number }) => s.weight)).toEqual([1, 5, 10, 25, 50, 100]);

    const list = await request(server).get('/api/releases/releases').query({ entityRef: 'component:default/checkout' });
    expect(list.status).toBe(200);
    expect(list.body.totalCount).toBe(1);
    expect(list.body.items[0].id).toBe(created.body.id);

    const details = await request(server).get(`/api/releases/releases/${created.body.id}`);
    expect(details.status).toBe(200);
    expect(details.body.timeline[0]).toMatchObject({ type: 'created', actor: 'user:default/alice' });
    expect(details.body.samples).toEqual([]);
  });

  it('uses the plan the annotation names, accepts a short entity ref and inline steps', async () => {
    const server = await startBackend();
    const annotated = await request(server).post('/api/releases/releases').send({ entityRef: 'recommendations', version: '1.0.0' });
    expect(annotated.status).toBe(201);
    expect(annotated.body.entityRef).toBe('component:default/recommendations');
    expect(annotated.body.plan.name).toBe('careful');
    const inline = await request(server)
      .post('/api/releases/releases')
      .send({
        entityRef: 'component:default/checkout',
        version: '1.0.0',
        plan: { steps: [{ weight: 50, minDurationSeconds: 1 }, { weight: 100, minDurationSeconds: 1 }], watchSeconds: 30 },
      });
    expect(inline.status).toBe(201);
    expect(inline.body.plan).toEqual({
      name: 'custom',
      steps: [{ weight: 50, minDurationSeconds: 1, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 1, minCanaryRequests: 0 }],
      watchSeconds: 30,
    });
    const plans = await request(server).get('/api/releases/plans');
    expect(plans.body.plans.map((p: { name: string }) => p.name)).toEqual(['careful', 'default']);
  });

  it('records the analysis the entity names, and refuses one config does not define', async () => {
    const server = await startBackend();
    const strict = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/strict', version: '1' });
    expect(strict.status).toBe(201);
    expect(strict.body.analysis).toBe('strict');
    const ghost = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/ghost', version: '1' });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error.message).toBe("Unknown judge 'ghost'; known judges: strict");
    const plain = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1' });
    expect(plain.body.analysis).toBeUndefined();
  });

  it('applies pause, resume, promote and rollback, and refuses invalid transitions with 409', async () => {
    const server = await startBackend();
    const { body: release } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    const act = (action: string, body: object = {}) => request(server).post(`/api/releases/releases/${release.id}/${action}`).send(body);

    const pause = await act('pause');
    expect(pause.status).toBe(409);
    expect(pause.body.error.message).toBe('Cannot pause a release that is pending');

    const rollback = await act('rollback', { reason: 'wrong build' });
    expect(rollback.status).toBe(200);
    expect(rollback.body.state).toBe('rolled_back');
    expect(rollback.body.reason).toBe('requested by user:default/mock: wrong build');

    for (const action of ['pause', 'resume', 'promote', 'rollback']) {
      const refused = await act(action);
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/a release that is rolled back/);
    }
    const details = await request(server).get(`/api/releases/releases/${release.id}`);
    expect(details.body.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'rollback_started', 'rolled_back']);
  });

  it('answers every malformed request with a 4xx and a message, and creates nothing', async () => {
    const server = await startBackend();
    const { body: existing } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1.0.0' });
    const id = existing.id;
    const post = (path: string) => request(server).post(`/api/releases${path}`);
    const cases: Array<[string, () => request.Test, number, RegExp]> = [
      ['malformed JSON', () => post('/releases').set('Content-Type', 'application/json').send('{"entityRef":'), 400, /not valid JSON/],
      ['empty body', () => post('/releases').send({}), 400, /entityRef/],
      ['array body', () => post('/releases').send([1, 2]), 400, /Invalid request body/],
      ['missing version', () => post('/releases').send({ entityRef: 'component:default/search' }), 400, /version/],
      ['version of wrong type', () => post('/releases').send({ entityRef: 'component:default/search', version: 7 }), 400, /version/],
      ['version with a path', () => post('/releases').send({ entityRef: 'component:default/search', version: '../../x' }), 400, /version may contain/],
      ['unknown field', () => post('/releases').send({ entityRef: 'component:default/search', version: '1', force: true }), 400, /force/],
      ['malformed entity ref', () => post('/releases').send({ entityRef: 'component:default/', version: '1' }), 400, /Invalid entityRef/],
      ['unknown entity', () => post('/releases').send({ entityRef: 'component:default/nope', version: '1' }), 404, /was not found in the catalog/],
      ['entity without annotation', () => post('/releases').send({ entityRef: 'component:default/legacy', version: '1' }), 400, /no 'release-pilot.io\/target' annotation/],
      ['unregistered target', () => post('/releases').send({ entityRef: 'component:default/elsewhere', version: '1' }), 400, /target 'kubernetes' is not registered/],
      ['unknown plan', () => post('/releases').send({ entityRef: 'component:default/recommendations', version: '1', plan: 'yolo' }), 400, /Unknown plan 'yolo'/],
      ['falling weights', () => post('/releases').send({ entityRef: 'component:default/recommendations', version: '1', plan: { steps: [{ weight: 50, minDurationSeconds: 1 }, { weight: 10, minDurationSeconds: 1 }] } }), 400, /must be greater than/],
      ['weight over 100', () => post('/releases').send({ entityRef: 'component:default/recommendations', version: '1', plan: { steps: [{ weight: 150, minDurationSeconds: 1 }] } }), 400, /weight/],
      ['watch over a day', () => post('/releases').send({ entityRef: 'component:default/recommendations', version: '1', plan: { steps: [{ weight: 100, minDurationSeconds: 1 }], watchSeconds: 90000 } }), 400, /watchSeconds/],
      ['metadata not an object', () => post('/releases').send({ entityRef: 'component:default/recommendations', version: '1', metadata: 'x' }), 400, /metadata/],
      ['second active release', () => post('/releases').send({ entityRef: 'component:default/checkout', version: '2' }), 409, /already has an active release/],
      ['release id not a UUID', () => request(server).get('/api/releases/releases/123'), 400, /expected a UUID/],
      ['unknown release', () => request(server).get('/api/releases/releases/00000000-0000-4000-8000-0000000000ff'), 404, /No release with id/],
      ['unknown action', () => post(`/releases/${id}/explode`), 400, /Unknown action 'explode'/],
      ['reason of wrong type', () => post(`/releases/${id}/rollback`).send({ reason: 42 }), 400, /reason/],
      ['bad list limit', () => request(server).get('/api/releases/releases').query({ limit: 'lots' }), 400, /limit/],
      ['unknown list filter', () => request(server).get('/api/releases/releases').query({ color: 'red' }), 400, /color/],
      ['unknown state filter', () => request(server).get('/api/releases/releases').query({ state: 'exploded' }), 400, /state/],
      ['invalid transition', () => post(`/releases/${id}/resume`), 409, /Cannot resume a release that is pending/],
    ];
    for (const [name, send, status, message] of cases) {
      const response = await send();
      expect({ name, status: response.status }).toEqual({ name, status });
      expect({ name, message: response.body?.error?.message }).toEqual({ name, message: expect.stringMatching(message) });
    }
    const all = await request(server).get('/api/releases/releases');
    expect(all.body.totalCount).toBe(1);
    expect(all.body.items[0].state).toBe('pending');
  });

  it('asks the permission policy, per entity for changes, and answers 403 when it denies', async () => {
    const authorize = jest.fn(async (requests: Array<{ permission: { name: string }; resourceRef?: string }>) =>
      requests.map(r => ({
        result: r.permission.name === 'releases.release.read' || r.resourceRef === 'component:default/checkout'
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
      })),
    );
    const server = await startBackend([mockServices.permissions.mock({ authorize: authorize as any }).factory]);
    const denied = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/recommendations', version: '1' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe('Not allowed: releases.release.create on component:default/recommendations');
    expect(authorize).toHaveBeenCalledWith(
      [{ permission: expect.objectContaining({ name: 'releases.release.create', resourceType: 'catalog-entity' }), resourceRef: 'component:default/recommendations' }],
      expect.anything(),
    );
    const allowed = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1' });
    expect(allowed.status).toBe(201);
    expect((await request(server).get('/api/releases/releases')).body.totalCount).toBe(1);
  });

  it('asks for the permission of each action: pause and resume, promote, rollback; a denial changes nothing and is audited', async () => {
    const denied = new Set<string>();
    const authorize = jest.fn(async (requests: Array<{ permission: { name: string } }>) =>
      requests.map(r => ({ result: denied.has(r.permission.name) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })),
    );
    const auditor = mockServices.auditor.mock();
    const failed: string[] = [];
    const succeeded: string[] = [];
    auditor.createEvent.mockImplementation(async options => ({
      success: async () => void succeeded.push(options.eventId),
      fail: async () => void failed.push(options.eventId),
    }));
    const server = await startBackend([mockServices.permissions.mock({ authorize: authorize as any }).factory, auditor.factory]);
    const { body: created } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1' });
    const act = (action: string) => request(server).post(`/api/releases/releases/${created.id}/${action}`).send({});
    for (const [action, permission] of [['rollback', 'releases.release.rollback'], ['promote', 'releases.release.promote']] as const) {
      denied.add(permission);
      const res = await act(action);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(`Not allowed: ${permission} on component:default/checkout`);
    }
    expect((await request(server).get(`/api/releases/releases/${created.id}`)).body.revision).toBe(created.revision);
    expect(failed).toEqual(['release-rollback', 'release-promote']);
    denied.clear();
    denied.add('releases.release.pause');
    expect((await act('pause')).status).toBe(403);
    expect((await act('rollback')).status).toBe(200);
    expect(failed).toEqual(['release-rollback', 'release-promote', 'release-pause']);
    expect(succeeded.filter(id => id !== 'release-decision')).toEqual(['release-create', 'release-rollback']);
    expect(succeeded).toContain('release-decision');
    expect(auditor.createEvent).toHaveBeenCalledWith(expect.objectContaining({ eventId: 'release-rollback', severityLevel: 'high' }));
  });

  it('the team overview: the group and its child groups, DORA figures; a bad group is a 400, an unknown one a 404', async () => {
    const server = await startBackend();
    const overview = await request(server).get('/api/releases/teams/overview').query({ group: 'team-checkout', days: 7 });
    expect(overview.status).toBe(200);
    expect(overview.body).toMatchObject({ group: 'group:default/team-checkout', groups: ['group:default/team-checkout', 'group:default/team-checkout-payments'] });
    expect(overview.body.days).toHaveLength(8);
    expect(overview.body.dora).toMatchObject({ finished: 0, deploymentsPerDay: 0 });
    const bad = await request(server).get('/api/releases/teams/overview').query({ group: 'component:default/checkout' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/expected a Group entity ref/);
    expect((await request(server).get('/api/releases/teams/overview').query({ group: 'team-nobody' })).status).toBe(404);
    expect((await request(server).get('/api/releases/teams/overview').query({ group: 'team-checkout', days: 0 })).status).toBe(400);
  });

  it('refuses reads and actions when the policy denies everything', async () => {
    const server = await startBackend([mockServices.permissions.factory({ result: AuthorizeResult.DENY })]);
    const list = await request(server).get('/api/releases/releases');
    expect(list.status).toBe(403);
    expect(list.body.error.message).toBe('Not allowed: releases.release.read');
    const create = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1' });
    expect(create.status).toBe(403);
  });

  it('a token without a user may manage the risk model only when its grant names releases.risk.manage, whatever the policy says', async () => {
    const history = { deployments: [{ entityRef: 'component:default/checkout', at: '2026-01-01T00:00:00Z', outcome: 0, features: {} }] };
    const pipeline = mockCredentials.service('external:ci');
    let server = await startBackend([mockServices.httpAuth.factory({ defaultCredentials: pipeline })]);
    const model = (await request(server).get('/api/releases/risk/model')).body;
    for (const [route, body] of [['/risk/history', history], ['/risk/train', {}]] as const) {
      const res = await request(server).post(`/api/releases${route}`).send(body);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(
        "Not allowed: releases.risk.manage: a token without a user (external:ci) needs 'releases.risk.manage' named in its accessRestrictions (backend.auth.externalAccess)",
      );
    }
    expect((await request(server).get('/api/releases/risk/model')).body).toEqual(model);
    // Releases themselves stay the policy's (allow-all here) and the token's grant.
    expect((await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1' })).status).toBe(201);

    const granted = mockCredentials.service('external:ml', { permissionNames: ['releases.risk.manage'] });
    server = await startBackend([mockServices.httpAuth.factory({ defaultCredentials: granted })]);
    expect((await request(server).post('/api/releases/risk/history').send(history)).status).toBe(201);
  });

  it('refuses requests without credentials', async () => {
    const server = await startBackend();
    const response = await request(server)
      .post('/api/releases/releases')
      .set('Authorization', mockCredentials.none.header())
      .send({ entityRef: 'component:default/checkout', version: '1' });
    expect(response.status).toBe(401);
  });

  it('blocks a risky release with its reasons, lets an allowed override through with a reason, and shapes the plan by the risk', async () => {
    const server = await startBackend([
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(r => ({
            result:
              r.permission.name === 'releases.risk.override' && r.resourceRef === 'component:default/checkout'
                ? AuthorizeResult.DENY
                : AuthorizeResult.ALLOW,
          })),
      }).factory,
    ]);
    const post = (body: object) =>
      request(server).post('/api/releases/releases').set('Authorization', mockCredentials.user.header('user:default/alice')).send(body);

    // The Start dialog's preview: the same risk and plan, nothing stored.
    const preview = await request(server)
      .post('/api/releases/risk/assess')
      .set('Authorization', mockCredentials.user.header('user:default/alice'))
      .send({ entityRef: 'component:default/checkout', version: '3.0.0', metadata: RISKY });
    expect(preview.status).toBe(200);
    expect(preview.body.risk).toMatchObject({ model: 'prior', blocked: true, threshold: 0.85 });
    expect(preview.body.plan.name).toBe('default (high risk)');
    expect(preview.body.risk.reasons[0].text).toMatch(/^lines changed: 20,000 \(usually 200\)/);

    const blocked = await post({ entityRef: 'component:default/checkout', version: '3.0.0', metadata: RISKY });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.name).toBe('ReleaseBlockedError');
    expect(blocked.body.error.message).toMatch(/^Release blocked: predicted risk \d+% is above the limit of 85% for component:default\/checkout \(lines changed: 20,000 \(usually 200\), \+\d+ points; /);
    expect(blocked.body.error.message).toContain('send riskOverride with a reason');

    const denied = await post({ entityRef: 'component:default/checkout', version: '3.0.0', metadata: RISKY, riskOverride: { reason: 'hotfix for the outage' } });
    expect(denied.status).toBe(403);
    const tooShort = await post({ entityRef: 'component:default/payments', version: '3.0.0', metadata: RISKY, riskOverride: { reason: '' } });
    expect(tooShort.status).toBe(400);
    const none = await request(server).get('/api/releases/releases').set('Authorization', mockCredentials.user.header());
    expect(none.body.totalCount).toBe(0);

    const overridden = await post({ entityRef: 'component:default/payments', version: '3.0.0', metadata: RISKY, riskOverride: { reason: 'hotfix for the outage' } });
    expect(overridden.status).toBe(201);
    expect(overridden.body.risk).toMatchObject({ model: 'prior', blocked: true, override: { actor: 'user:default/alice', reason: 'hotfix for the outage' } });
    expect(overridden.body.risk.probability).toBeGreaterThan(0.85);
    // High risk: smaller steps, twice as long, a manual gate before 50 %.
    expect(overridden.body.plan.name).toBe('default (high risk)');
    const gate = overridden.body.plan.steps.find((step: { approval?: boolean }) => step.approval);
    expect(gate.weight).toBe(50);
    expect(overridden.body.risk.plan.reason).toMatch(/^risk \d+% is at or above 50%: smaller steps .* and a manual gate before 50%$/);
    const details = await request(server).get(`/api/releases/releases/${overridden.body.id}`).set('Authorization', mockCredentials.user.header());
    const override = details.body.timeline.find((e: { type: string }) => e.type === 'risk_override');
    expect(override.message).toMatch(/^Risk gate overridden by user:default\/alice: risk \d+% above the limit of 85%. Reason: hotfix for the outage$/);

    // A small, fully covered change: low risk, the faster plan.
    const small = await post({ entityRef: 'component:default/checkout', version: '3.0.1', metadata: { linesAdded: 20, linesDeleted: 5, filesChanged: 2, coverage: 1 } });
    expect(small.status).toBe(201);
    expect(small.body.risk.probability).toBeLessThan(0.1);
    expect(small.body.plan.name).toBe('default (low risk)');
    expect(small.body.plan.steps.map((step: { minDurationSeconds: number }) => step.minDurationSeconds)).toEqual([30, 30, 30, 30, 30, 30]);
  });

  it('imports deployment history, trains the forest on demand, and predicts with it; only with the manage permission', async () => {
    const server = await startBackend([
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(() => ({ result: AuthorizeResult.ALLOW })),
      }).factory,
    ]);
    const as = (user: string) => mockCredentials.user.header(user);
    // Bigger changes fail more often: 300 deployments over 300 days.
    const deployments = Array.from({ length: 300 }, (_, i) => {
      const lines = 10 + ((i * 7919) % 5000);
      return {
        entityRef: 'component:default/checkout',
        at: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(),
        outcome: (lines > 3000 || i % 17 === 0 ? 1 : 0) as 0 | 1,
        features: { linesChanged: lines, filesChanged: Math.ceil(lines / 50) },
      };
    });
    const bad = await request(server).post('/api/releases/risk/history').set('Authorization', as('user:default/admin')).send({ deployments: [{ ...deployments[0], features: { lines: 3 } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^deployments\[0\]: unknown feature lines; known: linesAdded, /);
    const imported = await request(server).post('/api/releases/risk/history').set('Authorization', as('user:default/admin')).send({ deployments });
    expect(imported.status).toBe(201);
    expect(imported.body).toEqual({ imported: 300 });
    expect((await request(server).get('/api/releases/risk/model').set('Authorization', as('user:default/alice'))).body).toEqual({ model: 'prior', minTrainingRows: 200 });

    const trained = await request(server).post('/api/releases/risk/train').set('Authorization', as('user:default/admin')).send({});
    expect(trained.status).toBe(200);
    expect(trained.body).toMatchObject({ model: 'forest', rows: 300, validation: { testRows: 60 } });
    expect(trained.body.validation.auc).toBeGreaterThan(0.8);

    const big = await request(server).post('/api/releases/releases').set('Authorization', as('user:default/alice')).send({ entityRef: 'component:default/checkout', version: '4.0.0', metadata: { linesAdded: 4000, filesChanged: 80 }, riskOverride: { reason: 'testing the model' } });
    expect(big.status).toBe(201);
    expect(big.body.risk.model).toBe('forest');
    expect(big.body.risk.reasons[0].text).toMatch(/^lines changed: 4,000 \(usually [\d,]+\), \+\d+ points$/);
  });

  it('refuses to import or train without the manage permission', async () => {
    const server = await startBackend([
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(r => ({ result: r.permission.name === 'releases.risk.manage' ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })),
      }).factory,
    ]);
    const train = await request(server).post('/api/releases/risk/train').set('Authorization', mockCredentials.user.header()).send({});
    expect(train.status).toBe(403);
    const history = await request(server)
      .post('/api/releases/risk/history')
      .set('Authorization', mockCredentials.user.header())
      .send({ deployments: [{ entityRef: 'component:default/checkout', at: '2026-01-01T00:00:00Z', outcome: 1, features: {} }] });
    expect(history.status).toBe(403);
  });
});
