import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const component = (name: string, target: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'release-pilot.io/target': target, 'release-pilot.io/plan': 'resilient', ...annotations } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

const entities = [
  component('checkout', 'simulator'),
  component('storefront', 'simulator-regions'),
  component('cart', 'simulator', { 'release-pilot.io/plan': 'open' }),
  component('payments', 'simulator', { 'release-pilot.io/plan': 'open', 'release-pilot.io/experiments': 'latency-200' }),
  component('search', 'simulator', { 'release-pilot.io/plan': 'open', 'release-pilot.io/experiments': 'latency-200, meteor' }),
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-checkout', namespace: 'default' }, spec: { type: 'team', children: [] } },
];

const RESILIENT = {
  steps: [{ weight: 10, minDurationSeconds: 5 }, { weight: 100, minDurationSeconds: 5 }],
  gate: { experiments: [{ name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 20 }] },
};

const databases = createTestDatabases();

async function startBackend() {
  const knex = await databases.init('SQLITE_3');
  const { server } = await startTestBackend({
    features: [
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: {
          releases: {
            engine: { tickSeconds: 3600 },
            plans: { resilient: RESILIENT, open: { steps: RESILIENT.steps, gate: {} } },
            experiments: { 'latency-200': { fault: 'dependencyLatency', intensity: 200, durationSeconds: 20 }, kill: { name: 'instance kill', fault: 'instanceKill', durationSeconds: 5 } },
            targets: { simulator: { experiments: ['kill'] } },
            simulator: { seed: 1, regions: { 'eu-west-1': { rps: 1000 }, 'us-east-1': { rps: 1000 } } },
          },
        },
      }),
    ],
  });
  return server;
}

describe('plans with a resilience gate, through the API', () => {
  it('lists the gate with its defaults, and releases with it on a target that has a fault injector', async () => {
    const server = await startBackend();
    const plans = await request(server).get('/api/releases/plans');
    const gate = plans.body.plans.find((p: any) => p.name === 'resilient').gate;
    expect(gate.experiments).toEqual([{ name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 20, recoverySeconds: 30 }]);
    expect(gate.alpha).toBe(0.01);
    const created = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0-fragile' });
    expect(created.status).toBe(201);
    expect(created.body.plan.gate.experiments).toHaveLength(1);
  });

  it('takes the experiments from the entity\'s list, else the target\'s, and refuses unknown ones', async () => {
    const server = await startBackend();
    const start = (entity: string) => request(server).post('/api/releases/releases').send({ entityRef: `component:default/${entity}`, version: '2.0.0' });
    const cart = await start('cart');
    expect(cart.status).toBe(201);
    expect(cart.body.plan.gate.experiments.map((e: any) => e.name)).toEqual(['instance kill']);
    const payments = await start('payments');
    expect(payments.body.plan.gate.experiments.map((e: any) => e.name)).toEqual(['latency-200']);
    const search = await start('search');
    expect(search.status).toBe(400);
    expect(search.body.error.message).toBe('Annotation release-pilot.io/experiments names unknown experiments: meteor; known (releases.experiments): kill, latency-200');
    expect((await request(server).get('/api/releases/releases')).body.totalCount).toBe(2);
    // An inline plan may bring its own gate.
    const inline = await request(server)
      .post('/api/releases/releases')
      .send({ entityRef: 'component:default/checkout', version: '2.0.1', plan: { steps: RESILIENT.steps, gate: { experiments: [{ name: 'cpu 80 %', fault: 'cpuPressure', intensity: 80, durationSeconds: 10 }] } } });
    expect(inline.status).toBe(201);
    expect(inline.body.plan.gate).toMatchObject({ experiments: [{ name: 'cpu 80 %' }], alpha: 0.01 });
  });

  it('refuses a gated plan on a target without a fault injector, and stores nothing', async () => {
    const server = await startBackend();
    const refused = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/storefront', version: '2.0.0' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      "Plan 'resilient' begins with a resilience gate, but target 'simulator-regions' has no fault injector and synthetic load for it; choose a plan without 'gate', or a target with them",
    );
    expect((await request(server).get('/api/releases/releases')).body.totalCount).toBe(0);
  });
});
