import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
// The module inside the backend it extends: a test of the two together.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import releasesBackend from '@release-pilot/plugin-releases-backend';
import { releasesTargetsExtensionPoint, TrafficRouter } from '@release-pilot/plugin-releases-node';
import request from 'supertest';
import datadogModule from './index';
import { Answer, DatadogApiDouble, queryAnswer, Received, series } from './__testUtils__/DatadogApiDouble';

jest.setTimeout(60_000);

/*
 * A release on a target whose metrics come from Datadog (the API double): the backend in-process,
 * the driver's ticks run by the test. Missing data and rate limits hold the release where it is;
 * only data moves it on.
 */

const weights: number[] = [];
const router: TrafficRouter = {
  async setCanaryWeight(_context, weight) {
    weights.push(weight);
  },
  async getCanaryWeight() {
    return weights[weights.length - 1] ?? 0;
  },
};
const recordingRouter = createBackendModule({
  pluginId: 'releases',
  moduleId: 'recording-router',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addTrafficRouterType('recording', () => router);
      },
    });
  },
});

const checkout = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'dd' } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
};

/**
 * Healthy traffic on both sides as a time series: a point every 100 ms over the last 5 s of the
 * range asked (40 requests, no error, 20 ms at every percentile), so each tick's interval holds some
 * of them wherever its edges fall.
 */
function healthy(r: Received): Answer {
  const from = Number(r.params.from) * 1000;
  const to = Number(r.params.to) * 1000;
  const queries = r.params.query.split(/,(?![^{(]*[})])/);
  return queryAnswer(
    r.params.query,
    Number(r.params.from),
    Number(r.params.to),
    queries.map((q, i) => {
      let value = 0.02; // a percentile: 20 ms
      if (q.includes('.hits{')) value = 40;
      if (q.includes('.errors{')) value = 0;
      const points: Array<[number, number]> = [];
      for (let t = Math.max(from, to - 5000); t < to; t += 100) points.push([t, value]);
      return series(i, [], points);
    }),
  );
}

async function startBackend(api: DatadogApiDouble) {
  const site = await api.start();
  const scheduler = mockServices.scheduler.mock();
  const { server } = await startTestBackend({
    features: [
      scheduler.factory,
      releasesBackend,
      datadogModule,
      recordingRouter,
      catalogServiceMock.factory({ entities: [checkout] }),
      mockServices.rootConfig.factory({
        data: {
          releases: {
            engine: { tickSeconds: 1 },
            plans: { quick: { steps: [{ weight: 10, minDurationSeconds: 1 }, { weight: 100, minDurationSeconds: 1 }], watchSeconds: 0 } },
            targets: { dd: { router: { type: 'recording' }, metrics: { type: 'datadog', site, apiKey: 'k', applicationKey: 'a', delaySeconds: 0 } } },
          },
        },
      }),
    ],
  });
  const tick = async () => {
    await new Promise(resolve => setTimeout(resolve, 1100));
    const task = scheduler.scheduleTask.mock.calls.map(([t]) => t).find(t => t.id === 'releases-driver')!;
    await task.fn(new AbortController().signal);
  };
  const { body: created } = await request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', version: '2.0.0', plan: 'quick' });
  expect(created.state).toBe('pending');
  const get = async () => (await request(server).get(`/api/releases/releases/${created.id}`)).body;
  return { tick, get };
}

describe('a release judged on Datadog', () => {
  let api: DatadogApiDouble;
  beforeEach(() => {
    api = new DatadogApiDouble();
    weights.length = 0;
  });
  afterEach(() => api.stop());

  it('no data: the release stays on its first step, whatever the time, and is never promoted', async () => {
    const { tick, get } = await startBackend(api);
    for (let i = 0; i < 4; i++) await tick();
    const release = await get();
    expect(release).toMatchObject({ state: 'running', currentStep: 0, canaryWeight: 10, stepCanaryRequests: 0 });
    // No requests on either side: nothing to judge, and nothing that passes.
    expect(release.latestVerdict?.outcome ?? 'none').not.toBe('pass');
    expect(weights).toEqual([10]);
    expect(api.received.length).toBeGreaterThanOrEqual(3);
  });

  it('rate limited: every tick until the reset is a provider error, the step does not advance, and Datadog is not asked again', async () => {
    const { tick, get } = await startBackend(api);
    await tick(); // running at 10 %
    const asked = api.received.length;
    api.answer = () => ({ status: 429, headers: { 'x-ratelimit-reset': '60', 'x-ratelimit-limit': '1600', 'x-ratelimit-period': '3600' }, body: { errors: ['Rate limit exceeded'] } });
    for (let i = 0; i < 3; i++) await tick();
    const release = await get();
    expect(release).toMatchObject({ state: 'running', currentStep: 0, consecutiveProviderErrors: 3 });
    expect(release.timeline.map((e: { message: string }) => e.message).join('\n')).toMatch(/rate limiting/);
    expect(api.received.length).toBe(asked + 1);
    expect(weights).toEqual([10]);
  });

  it('with data the same release goes on to 100 % and succeeds (the control)', async () => {
    api.answer = healthy;
    const { tick, get } = await startBackend(api);
    for (let i = 0; i < 10 && (await get()).state !== 'succeeded'; i++) await tick();
    const release = await get();
    expect(release.state).toBe('succeeded');
    expect(weights).toEqual([10, 100]);
    expect(release.latestVerdict.evidence.find((e: { metric: string }) => e.metric === 'errorRate')).toMatchObject({ canaryRequests: expect.any(Number) });
  });
});
