import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import knexFactory, { Knex } from 'knex';
import net from 'node:net';
import request from 'supertest';
import { isDatabaseUnavailable } from '../database/unavailable';
import { releasesPlugin } from '../plugin';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

/**
 * A TCP proxy in front of the test's PostgreSQL server: `down()` cuts every connection through it
 * and refuses new ones (as a server that went away does), `up()` lets them through again.
 */
class Cable {
  readonly #sockets = new Set<net.Socket>();
  #server?: net.Server;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async up() {
    this.#server = net.createServer(client => {
      const server = net.connect(this.target.port, this.target.host);
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>(resolve => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }

  async down() {
    const closed = new Promise(resolve => this.#server!.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  },
];

const databases = createTestDatabases();
const postgres = databases.eachSupportedId().some(([id]) => id === 'POSTGRES_15');

describe('isDatabaseUnavailable', () => {
  it('tells a database that is gone from a query that is wrong', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('relation "releases" does not exist'), { code: '42P01' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('Release 1 not found'))).toBe(false);
  });
});

// Needs the real server behind the cable: PostgreSQL (the test script provides it).
(postgres ? describe : describe.skip)('the releases API while its PostgreSQL server is gone', () => {
  let cable: Cable;
  let knex: Knex;

  beforeAll(async () => {
    const direct = await databases.init('POSTGRES_15');
    const connection = { ...(direct.client.config.connection as Knex.PgConnectionConfig) };
    cable = new Cable({ host: connection.host ?? '127.0.0.1', port: Number(connection.port ?? 5432) });
    await cable.up();
    knex = knexFactory({ client: 'pg', connection: { ...connection, host: '127.0.0.1', port: cable.port }, pool: { min: 0, max: 4 }, acquireConnectionTimeout: 5000 });
  });

  afterAll(async () => {
    await knex?.destroy();
  });

  it('answers the reads that need it and every write with a 503 that says so, serves the reads that do not, changes nothing, and serves again once the server is back', async () => {
    const { server } = await startTestBackend({
      features: [
        mockServices.database.factory({ knex, migrations: { skip: false } }),
        releasesPlugin,
        simulatorModule,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, simulator: {} } } }),
      ],
    });
    const owner = mockCredentials.user.header('user:default/alice');
    const created = await request(server).post('/api/releases/releases').set('Authorization', owner).send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    expect(created.status).toBe(201);

    await cable.down();
    const attempts = [
      await request(server).get('/api/releases/releases'),
      await request(server).get(`/api/releases/releases/${created.body.id}`),
      await request(server).post(`/api/releases/releases/${created.body.id}/pause`).set('Authorization', owner).send({}),
      await request(server).post(`/api/releases/releases/${created.body.id}/rollback`).set('Authorization', owner).send({ reason: 'while the database is gone' }),
      await request(server).post('/api/releases/releases').set('Authorization', owner).send({ entityRef: 'component:default/checkout', version: '2.0.1' }),
      // A risk assessment reads the service's recent releases.
      await request(server).post('/api/releases/risk/assess').set('Authorization', owner).send({ entityRef: 'component:default/checkout', version: '2.0.1' }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ name: 'ServiceUnavailableError', message: expect.stringMatching(/^The releases database cannot be reached right now; try again in a few seconds/) });
    }

    // The reads that need no database go on: what the replica holds in memory and what the catalog says.
    const served = {
      health: await request(server).get('/api/releases/health'),
      plans: await request(server).get('/api/releases/plans').set('Authorization', owner),
      targets: await request(server).get('/api/releases/targets').set('Authorization', owner),
      riskModel: await request(server).get('/api/releases/risk/model').set('Authorization', owner),
      annotationProblems: await request(server).get('/api/releases/annotations/problems').query({ entityRef: 'component:default/checkout' }).set('Authorization', owner),
    };
    expect(Object.fromEntries(Object.entries(served).map(([name, res]) => [name, res.status]))).toEqual({
      health: 200,
      plans: 200,
      targets: 200,
      riskModel: 200,
      annotationProblems: 200,
    });
    expect(served.targets.body.targets).toContain('simulator');

    await cable.up();
    const after = await request(server).get(`/api/releases/releases/${created.body.id}`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ state: 'pending', revision: created.body.revision, version: '2.0.0' });
    expect(after.body.timeline.map((e: { type: string }) => e.type)).toEqual(['created']);
    const list = await request(server).get('/api/releases/releases').query({ entityRef: 'component:default/checkout' });
    expect(list.body.totalCount).toBe(1);
    const rolledBack = await request(server).post(`/api/releases/releases/${created.body.id}/rollback`).set('Authorization', owner).send({ reason: 'once it is back' });
    expect(rolledBack.status).toBe(200);
  });
});
