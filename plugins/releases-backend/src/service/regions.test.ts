import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const component = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator-regions', ...annotations } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

const entities = [
  component('checkout', {}),
  component('search', { 'release-pilot.io/regions': 'eu-west-1, ap-south-1' }),
  component('payments', { 'release-pilot.io/regions': 'eu-west-1, mars-1' }),
  component('gateway', { 'release-pilot.io/target': 'simulator-regions/eu-west-1' }),
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-checkout', namespace: 'default' }, spec: { type: 'team', children: [] } },
];

const REGIONS = {
  // 12:00 UTC: night in us-west-2 (04:00), afternoon in ap-south-1 (17:30).
  'us-west-2': { rps: 1600, utcOffsetHours: -8 },
  'eu-west-1': { rps: 1800, utcOffsetHours: 0 },
  'ap-south-1': { rps: 900, utcOffsetHours: 5.5 },
};

const databases = createTestDatabases();

async function startBackend(extra: any[] = []) {
  const knex = await databases.init('SQLITE_3');
  const { server } = await startTestBackend({
    features: [
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, demo: { history: { days: 0 } }, simulator: { seed: 1, dailyAmplitude: 0.6, regions: REGIONS } } } }),
      ...extra,
    ],
  });
  return server;
}

describe('releases across regions, through the API', () => {
  it('plans the waves with the quietest region first and says why, and lists the release once', async () => {
    const server = await startBackend();
    // The parts of each region are not targets an entity may name.
    expect((await request(server).get('/api/releases/targets')).body.targets).toEqual(['simulator', 'simulator-regions']);
    const created = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    expect(created.status).toBe(201);
    const { rollout } = created.body;
    expect(rollout.plan.waves).toHaveLength(2);
    expect(rollout.plan.waves[0]).toHaveLength(1);
    expect(rollout.plan.order[0].reason).toMatch(/^first: the lowest traffic relative to its daily average \([\d,.]+ requests\/s now, \d+ % of its daily average [\d,.]+ requests\/s\)$/);
    expect(Object.values(rollout.regions).map((r: any) => r.state)).toEqual(['waiting', 'waiting', 'waiting']);
    const details = await request(server).get(`/api/releases/releases/${created.body.id}`);
    expect(details.body.regionReleases).toEqual([]);
    expect((await request(server).get('/api/releases/releases')).body.totalCount).toBe(1);
  });

  it('narrows the release to the regions the entity names', async () => {
    const server = await startBackend();
    const created = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/search', version: '2.0.0' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body.rollout.regions).sort()).toEqual(['ap-south-1', 'eu-west-1']);
  });

  it('refuses an entity naming a region its target does not have, and stores nothing', async () => {
    const server = await startBackend();
    const refused = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/payments', version: '2.0.0' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      "Entity component:default/payments has an invalid 'release-pilot.io/regions' annotation: 'mars-1' is not a region of target 'simulator-regions'; use comma-separated names among us-west-2, eu-west-1, ap-south-1",
    );
    const problems = await request(server).get('/api/releases/annotations/problems').query({ entityRef: 'component:default/payments' });
    expect(problems.body.problems).toEqual([refused.body.error.message]);
    // One region's part is not a target to annotate: the other regions would be left behind.
    const part = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/gateway', version: '2.0.0' });
    expect(part.status).toBe(400);
    expect(part.body.error.message).toBe(
      "Entity component:default/gateway: release-pilot.io/target: 'simulator-regions/eu-west-1' is one region of target 'simulator-regions'; annotate the target and narrow it with release-pilot.io/regions: 'eu-west-1'.",
    );
    expect((await request(server).get('/api/releases/releases')).body.totalCount).toBe(0);
  });

  it('takes resume and rollback for the whole release, and refuses pause and promote with what to do instead', async () => {
    const server = await startBackend();
    const { body } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    const pause = await request(server).post(`/api/releases/releases/${body.id}/pause`).send({});
    expect(pause.status).toBe(409);
    expect(pause.body.error.message).toMatch(/spans regions: pause one region's release \(listed under regionReleases\), or resume or roll back all of them here/);
    const resume = await request(server).post(`/api/releases/releases/${body.id}/resume`).send({});
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toBe('Cannot resume a region release that is running');
    const rollback = await request(server).post(`/api/releases/releases/${body.id}/rollback`).send({ reason: 'not today' });
    expect(rollback.status).toBe(200);
    expect(rollback.body.state).toBe('rolled_back');
  });

  it.each([
    ['rollback', 'releases.release.rollback'],
    ['resume', 'releases.release.pause'],
  ])('refuses %s of the whole release to a caller without %s, and changes nothing', async (action, permission) => {
    const denied = mockServices.permissions.mock({
      authorize: async (requests: any[]) => requests.map(r => ({ result: r.permission.name === permission ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })),
    } as any);
    const server = await startBackend([denied.factory]);
    const { body } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    const refused = await request(server).post(`/api/releases/releases/${body.id}/${action}`).send({ reason: 'not mine' });
    // 403 before anything else is looked at (a resume of a running release would otherwise be a 409).
    expect(refused.status).toBe(403);
    const after = await request(server).get(`/api/releases/releases/${body.id}`);
    expect(after.body.state).toBe(body.state);
    expect(after.body.revision).toBe(body.revision);
    expect(after.body.timeline.map((e: any) => e.type)).toEqual(['created']);
  });
});
