import { createServiceFactory } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { SignalPayload, signalsServiceRef } from '@backstage/plugin-signals-node';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
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
];

const databases = createTestDatabases();

describe('the portal by push (Backstage signals)', () => {
  it('publishes a release\'s start and a person\'s rollback on the entity\'s channel and the releases channel, with the saved revision', async () => {
    const published: SignalPayload[] = [];
    const { server } = await startTestBackend({
      features: [
        mockServices.database.factory({ knex: await databases.init('SQLITE_3'), migrations: { skip: false } }),
        releasesPlugin,
        simulatorModule,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, simulator: { seed: 1 } } } }),
        createServiceFactory({ service: signalsServiceRef, deps: {}, factory: () => ({ publish: async (signal: SignalPayload) => void published.push(signal) }) }),
      ],
    });
    const created = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '1.0.0' });
    expect(created.status).toBe(201);
    const rolledBack = await request(server).post(`/api/releases/releases/${created.body.id}/rollback`).send({ reason: 'done' });
    expect(rolledBack.status).toBe(200);
    const on = (channel: string) => published.filter(p => p.channel === channel).map(p => p.message as { releaseId: string; state: string; revision: number });
    const entity = on('release-pilot:entity:component:default/checkout');
    expect(entity[0]).toMatchObject({ releaseId: created.body.id, state: 'pending', revision: 0 });
    expect(entity.at(-1)).toMatchObject({ releaseId: created.body.id, state: rolledBack.body.state, revision: rolledBack.body.revision });
    expect(on('release-pilot:releases').map(m => m.state)).toEqual(entity.map(m => m.state));
    expect(published.every(p => p.recipients.type === 'broadcast')).toBe(true);
  });
});
