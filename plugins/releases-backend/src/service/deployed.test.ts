import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import simulatorModule, { DEFAULT_BASELINE, SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import { releasesPlugin } from '../plugin';

jest.setTimeout(60_000);

/*
 * The `none` deployer: the pipeline deploys, and the release waits at 0 % until the pipeline
 * confirms through `POST /releases/:id/deployed`. A real backend in-process; the test runs the driver's ticks.
 */

const component = (name: string, target: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'release-pilot.io/target': target } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

const fleet = new SimulatedFleet({ seed: 1, rps: 500, baseline: DEFAULT_BASELINE, faults: [] });
/** A target whose pipeline deploys by itself. */
const pipelineTarget = createBackendModule({
  pluginId: 'releases',
  moduleId: 'pipeline-target',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addTarget({ name: 'pipeline', trafficRouter: fleet, metricProvider: fleet, confirmDeploys: true });
      },
    });
  },
});

const databases = createTestDatabases();

async function startBackend(denied: Set<string>) {
  const authorize = jest.fn(async (requests: Array<{ permission: { name: string } }>) =>
    requests.map(r => ({ result: denied.has(r.permission.name) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW })),
  );
  const scheduler = mockServices.scheduler.mock();
  const { server } = await startTestBackend({
    features: [
      scheduler.factory,
      mockServices.database.factory({ knex: await databases.init('SQLITE_3'), migrations: { skip: false } }),
      mockServices.permissions.mock({ authorize: authorize as any }).factory,
      releasesPlugin,
      simulatorModule,
      pipelineTarget,
      catalogServiceMock.factory({ entities: [component('checkout', 'pipeline'), component('search', 'simulator')] }),
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 1 }, simulator: {} } } }),
    ],
  });
  /** One tick of the driver: the task the plugin scheduled, run now. */
  const tick = async () => {
    const task = scheduler.scheduleTask.mock.calls.map(([t]) => t).find(t => t.id === 'releases-driver')!;
    await task.fn(new AbortController().signal);
  };
  return { server, tick };
}

describe('POST /releases/:id/deployed (the none deployer)', () => {
  it('holds the release at 0 % until the pipeline confirms; a caller without the permission changes nothing', async () => {
    const denied = new Set<string>();
    const { server, tick } = await startBackend(denied);
    const { body: created } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '3.1.0' });
    expect(created.deployMode).toBe('confirm');
    const get = async () => (await request(server).get(`/api/releases/releases/${created.id}`)).body;
    await tick();
    expect(await get()).toMatchObject({ state: 'deploying', canaryWeight: 0, operation: { kind: 'deployCanary', version: '3.1.0' } });
    // Ticks pass and nothing starts without the confirmation.
    await tick();
    await tick();
    expect((await get()).state).toBe('deploying');

    denied.add('releases.release.create');
    const refused = await request(server).post(`/api/releases/releases/${created.id}/deployed`).send({});
    expect(refused.status).toBe(403);
    expect((await get()).state).toBe('deploying');
    denied.clear();

    const wrong = await request(server).post(`/api/releases/releases/${created.id}/deployed`).send({ version: '3.0.9' });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.message).toBe('Cannot confirm version 3.0.9 (the canary side must run 3.1.0) for a release that is deploying');
    const bad = await request(server).post(`/api/releases/releases/${created.id}/deployed`).send({ side: 'left' });
    expect(bad.status).toBe(400);

    const confirmed = await request(server).post(`/api/releases/releases/${created.id}/deployed`).send({});
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ state: 'running', canaryWeight: 1, sides: { canary: '3.1.0' } });
    const timeline = (await get()).timeline;
    expect(timeline.find((e: { type: string }) => e.type === 'canary_deployed')).toMatchObject({ actor: 'user:default/mock' });
  });

  it('starts the steps at once for `deployed: true`, refuses it on a target that deploys by itself, and refuses a confirmation there', async () => {
    const { server, tick } = await startBackend(new Set());
    const { body: created } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '3.2.0', deployed: true });
    await tick();
    expect((await request(server).get(`/api/releases/releases/${created.id}`)).body).toMatchObject({ state: 'running', canaryWeight: 1 });
    const refused = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/search', version: '1.0.0', deployed: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe("deployed: the target 'simulator' deploys by itself; 'deployed' is for targets whose deployer is 'none'");
    const { body: managed } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/search', version: '1.0.0' });
    const confirm = await request(server).post(`/api/releases/releases/${managed.id}/deployed`).send({});
    expect(confirm.status).toBe(409);
    expect(confirm.body.error.message).toMatch(/is deployed by its target 'simulator' itself/);
  });
});
