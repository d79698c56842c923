import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import fc from 'fast-check';
import { Knex } from 'knex';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

/*
 * The HTTP API under hostile input, mixed with valid requests, on every database. After each
 * request the database is read directly and compared with what the request may change: a hostile
 * request nothing at all, a valid one exactly what its 2xx answer says (the release it created or
 * moved, the history rows it imported) and nothing when refused. A backend whose check is
 * deliberately weakened (no step minimum) is caught by the same comparison.
 */

jest.setTimeout(600_000);

const component = (name: string, annotations: Record<string, string> = { 'release-pilot.io/target': 'simulator' }) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
});
const entities = [component('checkout'), component('payments'), component('legacy', {})];
/** The target asks 30 s of every step: a shorter inline plan is invalid (unless the check is weakened). */
const MINIMUM_STEP_SECONDS = 30;

const ROUTES = [
  '/health', '/plans', '/targets', '/releases', '/releases/:id', '/releases/:id/pause', '/releases/:id/resume',
  '/releases/:id/promote', '/releases/:id/rollback', '/releases/:id/deployed', '/releases/:id/:word', '/risk/assess',
  '/risk/model', '/risk/history', '/risk/train', '/teams/overview', '/annotations/problems', '/:word',
];
const ACTIONS = ['pause', 'resume', 'promote', 'rollback'] as const;

const hostileString = fc.oneof(
  fc.string(),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.constantFrom('', ' ', '../../etc/passwd', '%00', '%E0%A4%A', "'; drop table releases; --", '<script>', 'component:default/', ':::', 'null', '1e309', '-1', '__proto__', 'constructor'),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString, fc.double(), fc.constant(undefined));
/** A time as the history schema takes it: any offset, 0 to 6 fraction digits. */
const anyTime = fc.record({
  at: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
  offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }).map(m => m - (m % 15)),
  digits: fc.integer({ min: 0, max: 6 }),
}).map(({ at, offsetMinutes, digits }) => {
  const local = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${local}${digits ? `.${'123456'.slice(0, digits)}` : ''}${offsetMinutes === 0 && digits % 2 ? 'Z' : `${sign}${hh}:${mm}`}`;
});

type Call = {
  valid: boolean;
  what: string;
  method: string;
  path: string;
  /** An index into the live releases, or undefined: the path's `:id` is already filled in. */
  live?: number;
  query?: Record<string, unknown>;
  auth: 'user' | 'none' | 'garbage' | 'service';
  contentType?: string;
  body?: { json: unknown } | { raw: string };
};

const validCreate = fc.record({
  entity: fc.constantFrom('checkout', 'payments'),
  version: fc.tuple(fc.nat(20), fc.nat(20), fc.nat(99)).map(v => v.join('.')),
  careful: fc.boolean(),
}).map(({ entity, version, careful }): Call => ({
  valid: true, what: 'create', method: 'post', path: '/releases', auth: 'user', contentType: 'application/json',
  body: { json: { entityRef: `component:default/${entity}`, version, ...(careful && { plan: { steps: [{ weight: 10, minDurationSeconds: 600, minCanaryRequests: 500 }, { weight: 100, minDurationSeconds: 600, minCanaryRequests: 500 }], watchSeconds: 3600 } }) } },
}));
const validAction = fc.record({ live: fc.nat(), action: fc.constantFrom(...ACTIONS), reason: fc.option(fc.string({ minLength: 1, maxLength: 100 }), { nil: undefined }) })
  .map(({ live, action, reason }): Call => ({ valid: true, what: action, method: 'post', path: `/releases/:id/${action}`, live, auth: 'user', contentType: 'application/json', body: { json: reason === undefined ? {} : { reason } } }));
const validImport = fc.array(
  fc.record({ entityRef: fc.string({ minLength: 1, maxLength: 255 }), at: anyTime, outcome: fc.constantFrom(0, 1), author: fc.option(fc.string({ maxLength: 255 }), { nil: undefined }), features: fc.record({ linesAdded: fc.nat(10_000) }) }, { requiredKeys: ['entityRef', 'at', 'outcome', 'features'] }),
  { minLength: 1, maxLength: 3 },
).map((deployments): Call => ({ valid: true, what: 'import', method: 'post', path: '/risk/history', auth: 'user', contentType: 'application/json', body: { json: { deployments } } }));

/** Shaped like a valid request but wrong in one way, aimed at live releases and the history too. */
const nearMiss = fc.oneof(
  // A live release's action with a body or credentials the API must refuse.
  fc.record({ live: fc.nat(), action: fc.constantFrom(...ACTIONS), body: fc.oneof(fc.record({ reason: fc.oneof(fc.integer(), fc.constant(''), fc.string({ minLength: 1001, maxLength: 1100 })) }), fc.record({ reason: fc.string(), extra: fc.oneof(fc.jsonValue(), hostileString) })), auth: fc.constantFrom('none', 'garbage') as fc.Arbitrary<Call['auth']> })
    .map(({ live, action, body, auth }): Call => ({ valid: false, what: `${action} (broken)`, method: 'post', path: `/releases/:id/${action}`, live, auth: body.reason !== undefined && typeof body.reason === 'string' && body.reason.length > 0 && body.reason.length <= 1000 && !('extra' in body) ? auth : 'user', contentType: 'application/json', body: { json: body } })),
  // A plan below the target's minimum step.
  fc.record({ entity: fc.constantFrom('checkout', 'payments'), seconds: fc.integer({ min: 1, max: MINIMUM_STEP_SECONDS - 1 }) })
    .map(({ entity, seconds }): Call => ({ valid: false, what: 'create (short plan)', method: 'post', path: '/releases', auth: 'user', contentType: 'application/json', body: { json: { entityRef: `component:default/${entity}`, version: '9.9.9', plan: { steps: [{ weight: 50, minDurationSeconds: seconds }, { weight: 100, minDurationSeconds: 600 }] } } } })),
  // History the columns cannot hold, or times that do not exist.
  fc.oneof(
    fc.record({ entityRef: fc.string({ minLength: 256, maxLength: 500 }), at: anyTime }),
    fc.record({ entityRef: fc.constant('checkout'), at: fc.constantFrom('2026-02-30T00:00:00Z', '2026-04-31T10:00:00+02:00', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z') }),
  ).map(({ entityRef, at }): Call => ({ valid: false, what: 'import (too long or unreal)', method: 'post', path: '/risk/history', auth: 'user', contentType: 'application/json', body: { json: { deployments: [{ entityRef, at, outcome: 1, features: {} }] } } })),
);

/** Anything at all: methods, routes, ids, queries, bodies, content types and credentials. */
const hostile = fc.record({
  method: fc.constantFrom('get', 'post', 'put', 'patch', 'delete', 'head', 'options'),
  route: fc.constantFrom(...ROUTES),
  id: fc.oneof(fc.uuid(), hostileString),
  word: hostileString,
  query: fc.dictionary(fc.oneof(fc.constantFrom('entityRef', 'state', 'limit', 'offset', 'owner', 'active', 'minRisk', 'group', 'days'), fc.string()), fc.oneof(hostileString, fc.array(fc.string(), { maxLength: 3 }))),
  body: fc.oneof(
    { weight: 4, arbitrary: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ entityRef: fc.oneof(hostileString, fc.constantFrom('component:default/legacy', 'component:default/nope', 'group:default/team-checkout', 'checkout ')), version: value, plan: value, metadata: value, riskOverride: value, reason: value }, { requiredKeys: [] }),
      fc.record({ entityRef: fc.constant('component:default/checkout'), version: fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 300 }), fc.constantFrom('a b', '-1', '.x', 'é')) }),
    ).map(json => ({ json })) },
    { weight: 1, arbitrary: hostileString.map(raw => ({ raw })) },
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
  auth: fc.constantFrom('user', 'none', 'garbage', 'service') as fc.Arbitrary<Call['auth']>,
}).map((r): Call => ({
  // Retraining takes no input: whoever may, does.
  valid: r.method === 'post' && r.route === '/risk/train',
  what: r.method === 'post' && r.route === '/risk/train' ? 'train' : `${r.method} ${r.route}`,
  method: r.method,
  path: r.route.replace(':id', () => encodeURIComponent(r.id)).replace(':word', () => encodeURIComponent(r.word)),
  query: r.query,
  auth: r.auth,
  contentType: r.contentType,
  body: r.body,
}));

const callArb = fc.oneof(
  { weight: 2, arbitrary: validCreate },
  { weight: 3, arbitrary: validAction },
  { weight: 1, arbitrary: validImport },
  { weight: 3, arbitrary: nearMiss },
  { weight: 11, arbitrary: hostile },
);

/** What the API may change, read straight from the database. */
async function snapshot(knex: Knex) {
  const count = async (table: string) => Number((await knex(table).count({ n: '*' }))[0].n);
  const releases = await knex('releases').select('id', 'revision', 'state');
  return {
    releases: new Map(releases.map(r => [r.id as string, { revision: Number(r.revision), state: r.state as string }])),
    events: await count('release_events'),
    history: await count('risk_history'),
    models: await count('risk_models'),
  };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** What changed between two snapshots, in words (empty: nothing). */
function changes(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [id, r] of after.releases) {
    const was = before.releases.get(id);
    if (!was) out.push(`created ${id}`);
    else if (was.revision !== r.revision || was.state !== r.state) out.push(`changed ${id} (${was.state} r${was.revision} > ${r.state} r${r.revision})`);
  }
  for (const key of ['history', 'models'] as const) if (before[key] !== after[key]) out.push(`${key} ${before[key]} > ${after[key]}`);
  if (!out.length && before.events !== after.events) out.push(`events ${before.events} > ${after.events}`);
  return out;
}

/** Sends the calls one after the other and holds each against what it may change. */
async function run(server: Parameters<typeof request>[0], knex: Knex, calls: Call[]) {
  const live: string[] = [];
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const unexpected: string[] = [];
  let expectedChanges = 0;
  let valid = 0;
  let before = await snapshot(knex);
  for (const call of calls) {
    // Before any release exists, an action goes to an id nobody has.
    const someRelease = live.length ? live[(call.live ?? 0) % live.length] : '00000000-0000-4000-8000-000000000000';
    const id = call.live === undefined ? undefined : someRelease;
    const path = id ? call.path.replace(':id', id) : call.path;
    let req = (request(server) as any)[call.method](`/api/releases${path}`);
    if (call.query) req = req.query(call.query);
    if (call.auth === 'user') req = req.set('Authorization', mockCredentials.user.header());
    if (call.auth === 'service') req = req.set('Authorization', mockCredentials.service.header());
    if (call.auth === 'garbage') req = req.set('Authorization', 'Bearer not-a-token');
    if (call.body && call.method !== 'get' && call.method !== 'head') {
      req = req.set('Content-Type', call.contentType ?? 'application/json').send('json' in call.body ? JSON.stringify(call.body.json ?? null) : call.body.raw);
    }
    const res = await req;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) serverErrors.push(`${call.what}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    const after = await snapshot(knex);
    const changed = changes(before, after);
    const ok = res.status >= 200 && res.status < 300;
    let expected: string[] = [];
    if (call.valid) valid++;
    if (call.valid && ok) {
      if (call.what === 'create') {
        expected = [`created ${res.body.id}`];
        live.push(res.body.id);
      } else if (call.what === 'train') {
        // A new model when the history has both outcomes (the last five are kept), none otherwise.
        expected = changed.filter(c => c.startsWith('models '));
      } else if (call.what === 'import') {
        const n = (call.body as { json: { deployments: unknown[] } }).json.deployments.length;
        expected = [`history ${before.history} > ${before.history + n}`];
      } else {
        const was = before.releases.get(id!);
        expected = was && (was.state !== res.body.state || res.body.revision !== was.revision) ? [`changed ${id} (${was.state} r${was.revision} > ${res.body.state} r${res.body.revision})`] : [];
      }
    }
    if (JSON.stringify(changed) !== JSON.stringify(expected)) {
      unexpected.push(`${call.valid ? 'valid' : 'hostile'} ${call.what} -> ${res.status}: expected [${expected.join(', ')}], found [${changed.join(', ')}]`);
    } else if (expected.length) {
      expectedChanges++;
    }
    before = after;
  }
  return { sent: calls.length, valid, statuses, serverErrors, unexpected, expectedChanges };
}

const databases = createTestDatabases();

async function startBackend(knex: Knex, minimums: boolean) {
  const { server } = await startTestBackend({
    features: [
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities }),
      mockServices.rootConfig.factory({
        data: { releases: { engine: { tickSeconds: 3600 }, simulator: {}, ...(minimums && { targets: { simulator: { minimums: { stepSeconds: MINIMUM_STEP_SECONDS } } } }) } },
      }),
    ],
  });
  return server;
}

describe.each(databases.eachSupportedId())('the HTTP API under hostile input mixed with valid requests (fast-check) on %s', databaseId => {
  it('answers every route without a 5xx, and changes exactly what the valid requests asked for', async () => {
    const knex = await databases.init(databaseId);
    const server = await startBackend(knex, true);
    const result = await run(server, knex, fc.sample(callArb, { numRuns: 6000, seed: 1205 }));
    // eslint-disable-next-line no-console
    console.log(
      `fuzz on ${databaseId}: ${result.sent} requests (${result.valid} valid), statuses ${[...result.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}x${n}`).join(' ')}; ` +
        `${result.expectedChanges} expected changes, ${result.unexpected.length} unexpected, ${result.serverErrors.length} 5xx`,
    );
    expect(result.serverErrors).toEqual([]);
    expect(result.unexpected).toEqual([]);
    // The valid requests did change things: creates, actions on live releases and imports all landed.
    expect(result.expectedChanges).toBeGreaterThan(300);
    expect(result.statuses.get(201)).toBeGreaterThan(100);
  });

  it('catches a deliberately weakened check: without the target\'s step minimum, a short plan gets through and is reported', async () => {
    const knex = await databases.init(databaseId);
    const weakened = await startBackend(knex, false);
    const result = await run(weakened, knex, fc.sample(fc.oneof(nearMiss, validAction), { numRuns: 200, seed: 1205 }));
    expect(result.serverErrors).toEqual([]);
    expect(result.unexpected.length).toBeGreaterThan(0);
    expect(result.unexpected[0]).toMatch(/^hostile create \(short plan\) -> 201: expected \[\], found \[created /);
  });
});
