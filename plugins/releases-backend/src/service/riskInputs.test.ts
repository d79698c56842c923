import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { describeDetectableEffect, emptyTrafficStats } from '@release-pilot/plugin-releases-common';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import request from 'supertest';
import { releasesPlugin } from '../plugin';

/*
 * The risk gate decides on what the server can know, not on what the request says about itself:
 * the author is the caller, the traffic comes from the metric provider, the records from stored
 * releases. Only a pipeline (a token without a user) names the author it releases for.
 */

jest.setTimeout(60_000);

const traffic = (requests: number, errors = 0) => ({ ...emptyTrafficStats(), requests, errors });

/** Traffic now is twice the usual: 120 requests in the last minute, 300 per 5-minute bucket before (1 % errors). */
const metrics = {
  getSample: jest.fn(async () => ({ from: '', to: '', canary: traffic(0), baseline: traffic(120) })),
  getHistory: jest.fn(async (_context: unknown, range: { from: Date; to: Date; bucketSeconds: number }) => {
    const buckets = [];
    for (let t = range.from.getTime(); t < range.to.getTime(); t += range.bucketSeconds * 1000) {
      buckets.push({ from: new Date(t).toISOString(), to: new Date(t + range.bucketSeconds * 1000).toISOString(), stats: traffic(300, 3) });
    }
    return buckets;
  }),
};

const vmTarget = createBackendModule({
  pluginId: 'releases',
  moduleId: 'vm-target',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addTarget({ name: 'vm', trafficRouter: { setCanaryWeight: async () => undefined, getCanaryWeight: async () => 0 }, metricProvider: metrics });
      },
    });
  },
});

async function startBackend() {
  const { server } = await startTestBackend({
    features: [
      releasesPlugin,
      vmTarget,
      catalogServiceMock.factory({
        entities: [{
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'vm' } },
          spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
        }],
      }),
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 } } } }),
    ],
  });
  return server;
}

/** What a request says about itself that the server knows better. */
const CLAIMS = { author: 'user:default/alice', trafficRatio: 0.1, serviceFailureRate: 0, authorServiceReleases: 50, hourUtc: 3, linesAdded: 10 };

describe('the risk gate\'s inputs', () => {
  it('takes the author from the caller and the traffic from the provider, whatever the metadata claims', async () => {
    const server = await startBackend();
    const as = (header: string) => (path: string, body: object) => request(server).post(`/api/releases${path}`).set('Authorization', header).send(body);
    const alice = as(mockCredentials.user.header('user:default/alice'));
    const bob = as(mockCredentials.user.header('user:default/bob'));
    const pipeline = as(mockCredentials.service.header());

    const first = await alice('/releases', { entityRef: 'component:default/checkout', version: '1.0.0', metadata: { linesAdded: 10 } });
    expect(first.status).toBe(201);
    expect(first.body.risk.features.authorServiceReleases).toBe(0);

    // Bob claims to be alice, with a quiet hour and a spotless record: none of it counts.
    const claimed = await bob('/risk/assess', { entityRef: 'component:default/checkout', version: '1.0.1', metadata: CLAIMS });
    expect(claimed.status).toBe(200);
    const features = claimed.body.risk.features;
    expect(features.authorServiceReleases).toBe(0);
    expect(features.authorReleases).toBe(0);
    expect(features.trafficRatio).toBeCloseTo(2, 5);
    expect(features.hourUtc).toBe(new Date().getUTCHours());
    expect(features.serviceReleases).toBe(0);
    expect(features.linesAdded).toBe(10);
    expect(metrics.getHistory).toHaveBeenCalled();

    // A pipeline releases for a commit's author: it may name them, and their record counts.
    const forAlice = await pipeline('/risk/assess', { entityRef: 'component:default/checkout', version: '1.0.1', metadata: CLAIMS });
    expect(forAlice.status).toBe(200);
    expect(forAlice.body.risk.features.authorServiceReleases).toBe(1);
    expect(forAlice.body.risk.features.trafficRatio).toBeCloseTo(2, 5);
  });

  it('tells what the plan can detect at the service\'s traffic: at 2 requests/s, not a 2x regression', async () => {
    const server = await startBackend();
    const assessed = await request(server)
      .post('/api/releases/risk/assess')
      .set('Authorization', mockCredentials.user.header('user:default/alice'))
      .send({ entityRef: 'component:default/checkout', version: '1.0.1' });
    expect(assessed.status).toBe(200);
    expect(assessed.body.detectable).toMatchObject({ rps: 2, baselineErrorRate: 0.01, probability: 0.9 });
    // Either no ratio up to 20x, or one above 2x: the dialog warns either way.
    expect(assessed.body.detectable.ratio ?? Infinity).toBeGreaterThan(2);
    expect(describeDetectableEffect(assessed.body.detectable)).toMatch(/cannot detect even a 20x|a 2x regression can slip through/);
  });

  // That it never shortens the plan is RiskService.test.ts's (a low probability needs a long record).
  it('shows an unknown change size as unknown', async () => {
    const server = await startBackend();
    const assess = (metadata: object) =>
      request(server).post('/api/releases/risk/assess').set('Authorization', mockCredentials.user.header('user:default/alice'))
        .send({ entityRef: 'component:default/checkout', version: '2.0.0', metadata });
    const unknown = (await assess({})).body;
    expect(unknown.risk.unknown).toEqual(['change size (no lines or files changed were sent)']);
    expect((await assess({ linesAdded: 3, filesChanged: 1 })).body.risk.unknown).toBeUndefined();
  });
});
