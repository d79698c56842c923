import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import request from 'supertest';
import { releasesPlugin } from '../plugin';

/*
 * The risk gate cannot be sidestepped by choosing a plan: a plan less careful than the one the risk
 * would shape needs releases.plan.override (audited, on the timeline), and no plan goes below what
 * its target asks of a step.
 */

jest.setTimeout(60_000);

const component = (name: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});

/** A fast plan in config, and a target that asks 10 s and 20 canary requests of every step. */
async function startBackend(planOverride: AuthorizeResult) {
  const audited: Array<{ eventId: string; meta?: Record<string, unknown> }> = [];
  const auditor = mockServices.auditor.mock();
  auditor.createEvent.mockImplementation(async options => ({
    success: async (result?: { meta?: Record<string, unknown> }) => void audited.push({ eventId: options.eventId, meta: result?.meta }),
    fail: async () => undefined,
  }));
  const authorize = jest.fn(async (requests: Array<{ permission: { name: string } }>) =>
    requests.map(r => ({ result: r.permission.name === 'releases.plan.override' ? planOverride : AuthorizeResult.ALLOW })),
  );
  const { server } = await startTestBackend({
    features: [
      releasesPlugin,
      simulatorModule,
      auditor.factory,
      mockServices.permissions.mock({ authorize: authorize as any }).factory,
      catalogServiceMock.factory({ entities: [component('checkout')] }),
      mockServices.rootConfig.factory({
        data: {
          releases: {
            engine: { tickSeconds: 3600 },
            simulator: {},
            targets: { simulator: { minimums: { stepSeconds: 10, canaryRequests: 20 } } },
            plans: {
              quick: { steps: [{ weight: 50, minDurationSeconds: 10, minCanaryRequests: 20 }, { weight: 100, minDurationSeconds: 10, minCanaryRequests: 20 }] },
              tooQuick: { steps: [{ weight: 50, minDurationSeconds: 2, minCanaryRequests: 20 }, { weight: 100, minDurationSeconds: 10, minCanaryRequests: 20 }] },
            },
          },
        },
      }),
    ],
  });
  const post = (body: object) => request(server).post('/api/releases/releases').send({ entityRef: 'component:default/checkout', ...body });
  const count = async () => (await request(server).get('/api/releases/releases')).body.totalCount;
  return { server, post, count, authorize, audited };
}

const SHORTCUT = { steps: [{ weight: 100, minDurationSeconds: 10, minCanaryRequests: 20 }] };

describe('choosing a plan', () => {
  it('needs releases.plan.override when the plan is less careful than the risk\'s: inline or named, refused without it, nothing stored', async () => {
    const { post, count, authorize } = await startBackend(AuthorizeResult.DENY);
    for (const plan of [SHORTCUT, 'quick']) {
      const refused = await post({ version: '1.0.0', plan });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe('Not allowed: releases.plan.override on component:default/checkout');
    }
    expect(authorize).toHaveBeenCalledWith(
      [{ permission: expect.objectContaining({ name: 'releases.plan.override', resourceType: 'catalog-entity' }), resourceRef: 'component:default/checkout' }],
      expect.anything(),
    );
    expect(await count()).toBe(0);

    // The preview says what the choice gives up, without refusing.
    const preview = await request((await startBackend(AuthorizeResult.DENY)).server)
      .post('/api/releases/risk/assess').send({ entityRef: 'component:default/checkout', version: '1.0.0', plan: SHORTCUT });
    expect(preview.status).toBe(200);
    expect(preview.body.risk.planOverride.lessCareful[0]).toMatch(/^a jump of 100 points in weight \(the risk's plan: \d+\)$/);

    // A plan at least as careful as the risk's needs nothing more: longer, smaller steps, a longer watch.
    const careful = {
      steps: [1, 2, 5, 10, 15, 25, 35, 50, 75, 100].map(weight => ({ weight, minDurationSeconds: 600, minCanaryRequests: 1000, ...(weight === 25 && { approval: true }) })),
      watchSeconds: 7200,
    };
    const allowed = await post({ version: '1.0.1', plan: careful });
    expect(allowed.status).toBe(201);
    expect(allowed.body.risk.planOverride).toBeUndefined();
    expect(await count()).toBe(1);
  });

  it('with the permission: the release starts, the choice is audited and on the timeline', async () => {
    const { server, post, audited } = await startBackend(AuthorizeResult.ALLOW);
    const created = await post({ version: '2.0.0', plan: SHORTCUT });
    expect(created.status).toBe(201);
    const lessCareful = created.body.risk.planOverride.lessCareful;
    expect(lessCareful.length).toBeGreaterThanOrEqual(3);
    const { body } = await request(server).get(`/api/releases/releases/${created.body.id}`);
    const event = body.timeline.find((e: { type: string }) => e.type === 'plan_override');
    expect(event.message).toBe(`Plan 'custom' chosen by user:default/mock instead of the risk's '${created.body.risk.planOverride.shaped}', less careful in ${lessCareful.join('; ')}`);
    expect(audited.find(e => e.eventId === 'release-create')?.meta).toMatchObject({ planOverride: lessCareful });
  });

  it('refuses a plan below its target\'s minimums, and a step of no time at all, with a 400 that says what to fix', async () => {
    const { post, count } = await startBackend(AuthorizeResult.ALLOW);
    const short = await post({ version: '3.0.0', plan: { steps: [{ weight: 10, minDurationSeconds: 5, minCanaryRequests: 5 }, { weight: 100, minDurationSeconds: 60, minCanaryRequests: 100 }] } });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toBe(
      "Plan 'custom' asks too little for target 'simulator': step 1 (10%) lasts 5 s; target 'simulator' asks at least 10 s (releases.targets.simulator.minimums.stepSeconds); step 1 (10%) asks 5 canary requests; target 'simulator' asks at least 20 (releases.targets.simulator.minimums.canaryRequests). Lengthen its steps, or choose another plan.",
    );
    const named = await post({ version: '3.0.0', plan: 'tooQuick' });
    expect(named.status).toBe(400);
    expect(named.body.error.message).toMatch(/^Plan 'tooQuick' asks too little for target 'simulator': step 1 \(50%\) lasts 2 s/);
    const zero = await post({ version: '3.0.0', plan: { steps: [{ weight: 100, minDurationSeconds: 0 }] } });
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toBe("Invalid request body: ✖ Too small: expected number to be >=1;   → at plan.steps[0].minDurationSeconds");
    expect(await count()).toBe(0);
  });
});
