import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import request from 'supertest';
import { releasesPlugin } from '../plugin';

jest.setTimeout(60_000);

/** The owners of `checkout` (team-checkout's member) and somebody else. */
const OWNER = 'user:default/olivia';
const OTHER = 'user:default/mallory';

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  },
];

interface Audited {
  eventId: string;
  outcome: 'success' | 'fail';
  meta?: Record<string, unknown>;
  via?: unknown;
  error?: string;
}

/**
 * The test backend with the real actions registry (Backstage's default one: its routes, its input and
 * output checks). The policy lets everybody read; a change of `checkout` only its owner.
 */
async function startBackend(options: { readable?: boolean } = {}) {
  const audited: Audited[] = [];
  const auditor = mockServices.auditor.mock();
  auditor.createEvent.mockImplementation(async created => ({
    success: async done => void audited.push({ eventId: created.eventId, outcome: 'success', meta: done?.meta, via: created.meta?.via }),
    fail: async done => void audited.push({ eventId: created.eventId, outcome: 'fail', meta: done.meta, via: created.meta?.via, error: done.error.message }),
  }));
  const permissions = mockServices.permissions.mock({
    authorize: (async (requests: Array<{ permission: { name: string }; resourceRef?: string }>, { credentials }: { credentials: BackstageCredentials<{ type: 'user'; userEntityRef: string }> }) =>
      requests.map(r => {
        if (r.permission.name === 'releases.release.read') return { result: options.readable === false ? AuthorizeResult.DENY : AuthorizeResult.ALLOW };
        return { result: r.resourceRef === 'component:default/checkout' && credentials.principal.userEntityRef === OWNER ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
      })) as any,
  });
  const { server } = await startTestBackend({
    features: [
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      permissions.factory,
      auditor.factory,
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, simulator: {} } } }),
    ],
  });
  const invoke = (name: string, input: object, user = OWNER) =>
    request(server)
      .post(`/api/releases/.backstage/actions/v1/actions/releases:${name}/invoke`)
      .set('Authorization', mockCredentials.user.header(user))
      .send(input);
  const releases = async () => (await request(server).get('/api/releases/releases').set('Authorization', mockCredentials.user.header(OWNER))).body;
  return { server, invoke, releases, audited };
}

const RELEASE_REQUEST_INPUT = {
  type: 'object',
  properties: {
    entityRef: { type: 'string', minLength: 1, maxLength: 500, description: 'The catalog entity to release, e.g. component:default/checkout' },
    version: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
      description: 'The version to release: letters, digits and . _ + -, starting with a letter or digit',
    },
    plan: { type: 'string', minLength: 1, maxLength: 100, description: 'A named plan; without it the risk chooses one' },
    metadata: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      description:
        'Facts about the change the risk model reads: linesAdded (lines added), linesDeleted (lines deleted), filesChanged (files changed), subsystems (subsystems touched), directories (directories touched), entropy (spread of the change across files), complexityDelta (change in code complexity), dependencyChanges (dependencies changed), majorDependencyChanges (major dependency upgrades), breaking (breaking change), coverage (test coverage), testsAdded (tests added), mutationScore (mutation score)',
    },
    deployed: { type: 'boolean', description: 'The pipeline already deployed the version to the canary side (targets whose deployer is none)' },
    riskOverride: {
      type: 'object',
      properties: { reason: { type: 'string', minLength: 3, maxLength: 500 } },
      required: ['reason'],
      additionalProperties: false,
      description: 'Start although the predicted risk is above the limit, saying why (needs the releases.risk.override permission)',
    },
  },
  required: ['entityRef', 'version'],
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
};

describe('release actions (Backstage actions registry, offered over MCP)', () => {
  it('registers eight actions, each with its exact input schema and attributes', async () => {
    const { server } = await startBackend();
    const { body } = await request(server).get('/api/releases/.backstage/actions/v1/actions').set('Authorization', mockCredentials.user.header(OWNER));
    const byName = new Map<string, any>(body.actions.map((a: any) => [a.name, a]));
    expect(Object.fromEntries([...byName].map(([name, a]) => [name, a.attributes]))).toEqual({
      'list-releases': { readOnly: true, destructive: false, idempotent: true },
      'get-release': { readOnly: true, destructive: false, idempotent: true },
      'assess-release-risk': { readOnly: true, destructive: false, idempotent: true },
      'start-release': { readOnly: false, destructive: true, idempotent: false },
      'pause-release': { readOnly: false, destructive: false, idempotent: true },
      'resume-release': { readOnly: false, destructive: false, idempotent: false },
      'promote-release': { readOnly: false, destructive: true, idempotent: true },
      'rollback-release': { readOnly: false, destructive: true, idempotent: true },
    });
    expect(byName.get('start-release').schema.input).toEqual(RELEASE_REQUEST_INPUT);
    expect(byName.get('assess-release-risk').schema.input).toEqual(RELEASE_REQUEST_INPUT);
    for (const name of ['pause-release', 'resume-release', 'promote-release', 'rollback-release', 'get-release']) {
      expect(byName.get(name).schema.input).toEqual({
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The release id' },
          ...(name !== 'get-release' && { reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why, for the timeline and the audit log' } }),
        },
        required: ['id'],
        additionalProperties: false,
        $schema: 'http://json-schema.org/draft-07/schema#',
      });
    }
    expect(byName.get('list-releases').schema.input).toMatchObject({
      properties: {
        owners: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 500 }, minItems: 1, maxItems: 100 },
        active: { type: 'boolean' },
        limit: { type: 'integer', minimum: 1, maximum: 100 },
      },
      additionalProperties: false,
    });
    expect(Object.keys(byName.get('list-releases').schema.input.properties)).toEqual(['entityRef', 'owners', 'active', 'state', 'minRisk', 'limit', 'offset']);
  });

  it('the owner assesses (nothing stored), starts, reads and rolls back; the same operations and audit events as over HTTP', async () => {
    const { server, invoke, releases, audited } = await startBackend();
    const assessed = await invoke('assess-release-risk', { entityRef: 'component:default/checkout', version: '2.0.0', metadata: { linesAdded: 120, filesChanged: 4 } });
    expect(assessed.status).toBe(200);
    expect(assessed.body.output).toMatchObject({ risk: { model: 'prior', blocked: false }, plan: { name: expect.any(String), gate: false } });
    expect(assessed.body.output.plan.steps.at(-1).weight).toBe(100);
    expect((await releases()).totalCount).toBe(0);

    const started = await invoke('start-release', { entityRef: 'component:default/checkout', version: '2.0.0', metadata: { linesAdded: 120, filesChanged: 4 } });
    expect(started.status).toBe(200);
    const { release } = started.body.output;
    expect(release).toMatchObject({ entityRef: 'component:default/checkout', version: '2.0.0', state: 'pending', createdBy: OWNER, step: 1, canaryWeight: 0 });
    expect(release.risk.probability).toBe(assessed.body.output.risk.probability);
    // The HTTP API sees the release the action stored.
    const stored = await request(server).get(`/api/releases/releases/${release.id}`).set('Authorization', mockCredentials.user.header(OWNER));
    expect(stored.body).toMatchObject({ id: release.id, version: '2.0.0', createdBy: OWNER, metadata: { linesAdded: 120, filesChanged: 4 } });

    const got = await invoke('get-release', { id: release.id });
    expect(got.body.output.release).toEqual(release);
    expect(got.body.output.timeline.map((e: { type: string }) => e.type)).toContain('created');

    const rolledBack = await invoke('rollback-release', { id: release.id, reason: 'the agent saw errors' });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body.output.release.state).toMatch(/rolling_back|rolled_back/);
    const paused = await invoke('pause-release', { id: release.id });
    expect(paused.status).toBe(409);

    const listed = await invoke('list-releases', { entityRef: 'component:default/checkout', active: false });
    expect(listed.body.output).toMatchObject({ totalCount: rolledBack.body.output.release.state === 'rolled_back' ? 1 : 0, limit: 20, offset: 0 });

    expect(audited.filter(a => a.eventId !== 'release-decision')).toEqual([
      { eventId: 'release-create', outcome: 'success', via: 'actions-registry', meta: expect.objectContaining({ actor: OWNER, releaseId: release.id, version: '2.0.0' }) },
      { eventId: 'release-rollback', outcome: 'success', via: 'actions-registry', meta: expect.objectContaining({ actor: OWNER, releaseId: release.id, reason: 'the agent saw errors' }) },
      { eventId: 'release-pause', outcome: 'fail', via: 'actions-registry', meta: { actor: OWNER }, error: expect.stringContaining('pause') },
    ]);
  });

  it('a caller who does not own the entity is refused, and nothing changes', async () => {
    const { invoke, releases, audited } = await startBackend();
    const start = { entityRef: 'component:default/checkout', version: '2.0.0' };
    const refused = await invoke('start-release', start, OTHER);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('Not allowed: releases.release.create on component:default/checkout');
    expect((await invoke('assess-release-risk', start, OTHER)).status).toBe(403);
    expect((await releases()).totalCount).toBe(0);

    const { release } = (await invoke('start-release', start)).body.output;
    const before = (await releases()).items;
    for (const action of ['rollback', 'promote', 'pause', 'resume']) {
      const res = await invoke(`${action}-release`, { id: release.id }, OTHER);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(new RegExp(`^Not allowed: releases\\.release\\.(${action}|pause) on component:default/checkout$`));
    }
    expect((await releases()).items).toEqual(before);
    expect(before).toEqual([expect.objectContaining({ id: release.id, state: 'pending' })]);
    expect(audited.filter(a => a.outcome === 'fail').map(a => [a.eventId, a.meta?.actor])).toEqual([
      ['release-create', OTHER],
      ['release-rollback', OTHER],
      ['release-promote', OTHER],
      ['release-pause', OTHER],
      ['release-resume', OTHER],
    ]);
  });

  it('bad input is a 400 that says what to fix, and stores nothing', async () => {
    const { invoke, releases } = await startBackend();
    const cases: Array<[string, object, RegExp]> = [
      ['start-release', { entityRef: 'component:default/checkout', version: '../etc' }, /Invalid input to action "releases:start-release"/],
      ['start-release', { entityRef: 'component:default/checkout', version: '1', extra: true }, /Invalid input/],
      ['start-release', { entityRef: 'component:default/checkout', version: '1', plan: 'nope' }, /nope/],
      ['start-release', { entityRef: 'component:default/nowhere', version: '1' }, /nowhere/],
      ['rollback-release', { id: 'not-a-uuid' }, /Invalid input/],
      ['list-releases', { limit: 1000 }, /Invalid input/],
    ];
    for (const [name, input, message] of cases) {
      const res = await invoke(name, input);
      expect({ name, status: res.status, message: res.body.error?.message }).toEqual({ name, status: expect.any(Number), message: expect.stringMatching(message) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await releases()).totalCount).toBe(0);
  });

  it('a caller who may not read releases does not see the actions and cannot call them', async () => {
    const { server, invoke } = await startBackend({ readable: false });
    const { body } = await request(server).get('/api/releases/.backstage/actions/v1/actions').set('Authorization', mockCredentials.user.header(OWNER));
    expect(body.actions).toEqual([]);
    expect((await invoke('list-releases', {})).status).toBe(404);
  });
});
