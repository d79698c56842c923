import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import { Knex } from 'knex';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  },
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-checkout', namespace: 'default' }, spec: { type: 'team', children: [] } },
];

const databases = createTestDatabases();

/** A backend with the simulator module installed, on `knex`, with `releases` config as given. */
async function startBackend(knex: Knex, releases: object) {
  const { server } = await startTestBackend({
    features: [
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, ...releases } } }),
    ],
  });
  return server;
}

const counted = async (server: Awaited<ReturnType<typeof startBackend>>) => {
  const { body } = await request(server).get('/api/releases/teams/overview').query({ group: 'team-checkout', days: 7 });
  return { releases: body.active.length + body.history.length, finished: body.dora.finished };
};

describe.each(databases.eachSupportedId())('the simulator target on %s', databaseId => {
  it('exists only where config asks for it: elsewhere a simulator entity is refused, and no simulated release counts', async () => {
    const knex = await databases.init(databaseId);

    // The demo: the simulator block is there, so the target is, and its release counts.
    const demo = await startBackend(knex, { simulator: { seed: 1 } });
    expect((await request(demo).get('/api/releases/targets')).body.targets).toContain('simulator');
    const created = await request(demo).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1.0.0' });
    expect(created.status).toBe(201);
    expect((await request(demo).post(`/api/releases/releases/${created.body.id}/rollback`).send({ reason: 'done' })).status).toBe(200);
    expect((await counted(demo)).releases).toBe(1);

    // Production: the module is installed but config turns it off (or never mentions it), on the same database.
    for (const releases of [{ simulator: { enabled: false } }, {}]) {
      const production = await startBackend(knex, releases);
      expect((await request(production).get('/api/releases/targets')).body.targets).not.toContain('simulator');
      const refused = await request(production).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1.0.1' });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/Release target 'simulator' is not registered/);
      expect(await counted(production)).toEqual({ releases: 0, finished: 0 });
      expect((await request(production).get('/api/releases/releases')).body.totalCount).toBe(1);
    }
  });
});
