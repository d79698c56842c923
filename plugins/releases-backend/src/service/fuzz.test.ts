import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import fc from 'fast-check';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases, perPluginDatabaseFactory } from '../__testUtils__/databases';

jest.setTimeout(300_000);

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'legacy', namespace: 'default' },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  },
];

const ROUTES = [
  '/health', '/plans', '/targets', '/releases', '/releases/:id', '/releases/:id/pause', '/releases/:id/resume',
  '/releases/:id/promote', '/releases/:id/rollback', '/releases/:id/:word', '/risk/assess', '/risk/model',
  '/risk/history', '/risk/train', '/teams/overview', '/:word',
];

const hostileString = fc.oneof(
  fc.string(),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.constantFrom('', ' ', '../../etc/passwd', '%00', '%E0%A4%A', "'; drop table releases; --", '<script>', 'component:default/', ':::', 'null', '1e309', '-1', '__proto__', 'constructor'),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const idLike = fc.oneof(fc.uuid(), hostileString, fc.constant('00000000-0000-4000-8000-000000000000'));
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString, fc.double(), fc.constant(undefined));

/** A body shaped like the API's, with one or more fields wrong, or anything at all. */
const bodyArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      entityRef: fc.oneof(hostileString, fc.constantFrom('component:default/legacy', 'component:default/nope', 'group:default/team-checkout', 'checkout ')),
      version: value,
      plan: fc.oneof(value, fc.record({ steps: fc.array(fc.record({ weight: value, minDurationSeconds: value }), { maxLength: 3 }) })),
      metadata: value,
      riskOverride: value,
      reason: value,
      deployments: fc.array(fc.record({ entityRef: value, at: value, outcome: value, features: value }), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  // The real entity, with a version that the schema refuses.
  fc.record({ entityRef: fc.constant('component:default/checkout'), version: fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 300 }), fc.constantFrom('a b', '-1', '.x', 'é')) }),
);

const requestArb = fc.record({
  method: fc.constantFrom('get', 'post', 'put', 'patch', 'delete', 'head', 'options'),
  route: fc.constantFrom(...ROUTES),
  id: idLike,
  word: hostileString,
  query: fc.dictionary(fc.oneof(fc.constantFrom('entityRef', 'state', 'limit', 'offset', 'owner', 'active', 'minRisk', 'group', 'days'), fc.string()), fc.oneof(hostileString, fc.array(fc.string(), { maxLength: 3 }))),
  body: fc.oneof({ weight: 4, arbitrary: bodyArb.map(b => ({ json: b })) }, { weight: 1, arbitrary: hostileString.map(raw => ({ raw })) }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
  auth: fc.constantFrom('user', 'none', 'garbage', 'service'),
});

const databases = createTestDatabases();

describe.each(databases.eachSupportedId())('the HTTP API under hostile input (fast-check) on %s', databaseId => {
  it('answers 10,000 random and malformed requests without a 5xx, and creates or changes no release', async () => {
    const { server } = await startTestBackend({
      features: [
        perPluginDatabaseFactory(databases, databaseId),
        releasesPlugin,
        simulatorModule,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, simulator: {} } } }),
      ],
    });
    const listAll = async () =>
      (await request(server).get('/api/releases/releases?limit=100').set('Authorization', mockCredentials.user.header())).body;
    const before = await listAll();
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async r => {
        const path = r.route.replace(':id', () => encodeURIComponent(r.id)).replace(':word', () => encodeURIComponent(r.word));
        let req = (request(server) as any)[r.method](`/api/releases${path}`).query(r.query);
        if (r.auth === 'user') req = req.set('Authorization', mockCredentials.user.header());
        if (r.auth === 'service') req = req.set('Authorization', mockCredentials.service.header());
        if (r.auth === 'garbage') req = req.set('Authorization', 'Bearer not-a-token');
        if (r.method !== 'get' && r.method !== 'head') {
          req = req.set('Content-Type', r.contentType).send('json' in r.body ? JSON.stringify(r.body.json ?? null) : r.body.raw);
        }
        const res = await req;
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) serverErrors.push(`${r.method.toUpperCase()} ${path.slice(0, 80)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }),
      { numRuns: 10_000, seed: 1127, endOnFailure: true },
    );
    expect(serverErrors).toEqual([]);
    expect(await listAll()).toEqual(before);
    // Still healthy afterwards: a valid request works.
    const created = await request(server)
      .post('/api/releases/releases')
      .set('Authorization', mockCredentials.user.header())
      .send({ entityRef: 'component:default/checkout', version: '1.0.0' });
    expect(created.status).toBe(201);
    // eslint-disable-next-line no-console
    console.log(`fuzz on ${databaseId}: ${sent} requests, statuses ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}x${n}`).join(' ')}, 0 5xx, no release created or changed`);
  });
});
