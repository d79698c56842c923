import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { releasesPlugin } from '../plugin';
import { createTestDatabases, perPluginDatabaseFactory } from '../__testUtils__/databases';
import { ConfigReader } from '@backstage/config';
import { Release } from '@release-pilot/plugin-releases-common';
import { randomUUID } from 'node:crypto';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { ReleasesStore } from '../database/ReleasesStore';
import { ChannelDelivery, readNotificationsConfig } from './channels';
import { ReleaseNotifier } from './ReleaseNotifier';

jest.setTimeout(60_000);

const ref = (kind: string, name: string) => `${kind}:default/${name}`;

/** A catalog with relations filled in, as the catalog backend would: two teams under a department. */
const entities: Entity[] = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
    spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
    relations: [{ type: 'ownedBy', targetRef: ref('group', 'team-checkout') }],
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name: 'team-checkout',
      namespace: 'default',
      annotations: { 'release-pilot.io/notify-channels': 'checkout-slack, checkout-pager, unknown-channel' },
    },
    spec: { type: 'team', children: [] },
    relations: [
      { type: 'hasMember', targetRef: ref('user', 'alice') },
      { type: 'hasMember', targetRef: ref('user', 'guest') },
      { type: 'childOf', targetRef: ref('group', 'shop') },
    ],
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'team-discovery', namespace: 'default' },
    spec: { type: 'team', children: [] },
    relations: [{ type: 'hasMember', targetRef: ref('user', 'bob') }],
  },
  ...['alice', 'guest', 'bob'].map(name => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'default' },
    spec: {},
  })),
];

/** A local stand-in for Slack's and PagerDuty's endpoints: records every request, fails the first ones on demand. */
class Receiver {
  readonly requests: Array<{ path: string; body: any }> = [];
  /** Every request's path, the refused ones too. */
  readonly hits: string[] = [];
  failuresLeft: Record<string, number> = {};
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer(async (req: IncomingMessage, res) => {
      let data = '';
      for await (const chunk of req) data += chunk;
      const path = req.url ?? '';
      this.hits.push(path);
      if ((this.failuresLeft[path] ?? 0) > 0) {
        this.failuresLeft[path]--;
        res.writeHead(503).end('try later');
        return;
      }
      this.requests.push({ path, body: JSON.parse(data) });
      res.writeHead(path.startsWith('/pagerduty') ? 202 : 200, { 'Content-Type': 'application/json' }).end(path.startsWith('/pagerduty') ? '{"status":"success"}' : 'ok');
    });
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(resolve));
  }

  to(prefix: string) {
    return this.requests.filter(r => r.path.startsWith(prefix));
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

const databases = createTestDatabases();

describe.each(databases.eachSupportedId())('notifications to the owning team on %s', databaseId => {
  const receiver = new Receiver();
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  // The driver's ticks run when the test says: they deliver what the outbox still holds.
  const tasks = new Map<string, () => Promise<unknown>>();
  const scheduleTask = async (task: { id: string; fn: (signal: AbortSignal) => unknown }) => {
    tasks.set(task.id, async () => task.fn(new AbortController().signal));
  };
  const scheduler = mockServices.scheduler.mock({
    scheduleTask,
    createScheduledTaskRunner: () => ({ run: scheduleTask }),
  });
  const tick = () => tasks.get('releases-driver')!();

  beforeAll(async () => {
    const base = await receiver.start();
    receiver.failuresLeft['/slack'] = 2;
    ({ server } = await startTestBackend({
      features: [
        perPluginDatabaseFactory(databases, databaseId),
        scheduler.factory,
        releasesPlugin,
        simulatorModule,
        notificationsPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://portal.example' },
            releases: {
              engine: { tickSeconds: 3600 },
              simulator: {},
              notifications: {
                channels: {
                  'checkout-slack': { type: 'slack', webhookUrl: `${base}/slack`, minSeverity: 'high' },
                  'checkout-pager': { type: 'pagerduty', routingKey: 'R0UT1NGKEY', url: `${base}/pagerduty` },
                },
                retry: { attempts: 5, initialDelaySeconds: 0.05 },
              },
            },
          },
        }),
      ],
    }));
  });

  afterAll(() => receiver.stop());

  const inbox = async (user: string) => {
    const res = await request(server).get('/api/notifications/notifications').set('Authorization', mockCredentials.user.header(ref('user', user)));
    expect(res.status).toBe(200);
    return res.body.notifications as Array<{ payload: { title: string; description: string; severity: string; link: string; scope: string; topic: string } }>;
  };

  it('a rollback by button: one critical notification per member of the owning team, none for others; Slack and PagerDuty get the documented payloads', async () => {
    const created = await request(server)
      .post('/api/releases/releases')
      .set('Authorization', mockCredentials.user.header(ref('user', 'alice')))
      .send({ entityRef: 'component:default/checkout', version: '2.0.0' });
    expect(created.status).toBe(201);
    expect(created.body.owner).toBe('group:default/team-checkout');
    const rolledBack = await request(server)
      .post(`/api/releases/releases/${created.body.id}/rollback`)
      .set('Authorization', mockCredentials.user.header(ref('user', 'alice')))
      .send({ reason: 'wrong build' });
    expect(rolledBack.status).toBe(200);

    for (const user of ['alice', 'guest']) {
      const notes = await until(`${user}'s notification`, async () => {
        const all = (await inbox(user)).filter(n => n.payload.scope === `release:${created.body.id}`);
        return all.length ? all : undefined;
      });
      expect(notes).toHaveLength(1);
      expect(notes[0].payload).toMatchObject({
        severity: 'critical',
        topic: 'releases',
        title: 'Release of checkout 2.0.0 rolled back by user:default/alice',
        link: '/catalog/default/component/checkout/releases',
      });
      expect(notes[0].payload.description).toContain('wrong build');
    }
    expect(await inbox('bob')).toEqual([]);

    // Slack failed twice (503) and got the message on the third attempt, each retry a tick's
    // delivery of the stored call; PagerDuty triggered an incident.
    const slack = await until('Slack', async () => {
      if (receiver.to('/slack').length) return receiver.to('/slack');
      await new Promise(resolve => setTimeout(resolve, 100));
      await tick();
      return undefined;
    });
    expect(slack).toHaveLength(1);
    // Delivered calls leave the outbox: more ticks send nothing again.
    for (let i = 0; i < 3; i++) await tick();
    expect(receiver.hits.filter(path => path === '/slack')).toHaveLength(3);
    expect(receiver.to('/slack')).toHaveLength(1);
    expect(slack[0].body.text).toBe(':rotating_light: Release of checkout 2.0.0 rolled back by user:default/alice');
    expect(slack[0].body.blocks[1].elements[0].text).toContain('<http://portal.example/catalog/default/component/checkout/releases|Open the Releases tab>');
    const pager = await until('PagerDuty', () => (receiver.to('/pagerduty').length ? receiver.to('/pagerduty') : undefined));
    expect(pager).toHaveLength(1);
    expect(pager[0].body).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'release-pilot/component:default/checkout',
      payload: {
        source: 'release-pilot',
        severity: 'critical',
        component: 'component:default/checkout',
        group: 'group:default/team-checkout',
        custom_details: { version: '2.0.0', releaseId: created.body.id },
      },
      links: [{ href: 'http://portal.example/catalog/default/component/checkout/releases' }],
    });
    expect(pager[0].body.payload.summary).toMatch(/^Release of checkout 2\.0\.0 rolled back by user:default\/alice\. Reason: .*wrong build/);
  });

  it('a release blocked by its risk: a high notification to the owners only, on Slack but not PagerDuty', async () => {
    const pagerBefore = receiver.to('/pagerduty').length;
    const blocked = await request(server)
      .post('/api/releases/releases')
      .set('Authorization', mockCredentials.user.header(ref('user', 'alice')))
      .send({
        entityRef: 'component:default/checkout',
        version: '3.0.0',
        metadata: { linesAdded: 18000, linesDeleted: 2000, filesChanged: 400, breaking: true, majorDependencyChanges: 3, coverage: 20 },
      });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.name).toBe('ReleaseBlockedError');
    for (const user of ['alice', 'guest']) {
      const notes = await until(`${user}'s notification`, async () => {
        const all = (await inbox(user)).filter(n => n.payload.scope === 'release-blocked:component:default/checkout');
        return all.length ? all : undefined;
      });
      expect(notes).toHaveLength(1);
      expect(notes[0].payload).toMatchObject({ severity: 'high', title: 'Release of checkout 3.0.0 blocked by its predicted risk' });
      expect(notes[0].payload.description).toMatch(/^Predicted risk \d+% is above the limit of 85% for component:default\/checkout .*Requested by user:default\/alice\.$/);
    }
    expect(await inbox('bob')).toEqual([]);
    await until('Slack', () => receiver.to('/slack').find(r => r.body.text.includes('blocked')));
    expect(receiver.to('/pagerduty').length).toBe(pagerBefore);
  });
});

describe('PagerDuty incidents', () => {
  it('a success resolves the incident only when the release before it was rolled back', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const releases = [
      makeRelease({ id: randomUUID(), version: '1.0.0', state: 'succeeded', createdAt: '2026-01-01T00:00:00.000Z' }),
      makeRelease({ id: randomUUID(), version: '1.1.0', state: 'rolled_back', createdAt: '2026-01-01T01:00:00.000Z' }),
      makeRelease({ id: randomUUID(), version: '1.2.0', state: 'succeeded', createdAt: '2026-01-01T02:00:00.000Z' }),
      makeRelease({ id: randomUUID(), version: '1.3.0', state: 'succeeded', createdAt: '2026-01-01T03:00:00.000Z' }),
    ];
    for (const release of releases) {
      await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
    }
    const sent: Array<{ url: string; body: any }> = [];
    const logger = mockServices.logger.mock();
    const config = readNotificationsConfig(new ConfigReader({
      releases: { notifications: { enabled: false, channels: { 'checkout-pager': { type: 'pagerduty', routingKey: 'KEY', url: 'http://pager.test/enqueue' } } } },
    }));
    const notifier = new ReleaseNotifier({
      catalog: catalogServiceMock({ entities }),
      auth: mockServices.auth(),
      logger,
      config,
      delivery: new ChannelDelivery({
        logger,
        channels: config.channels,
        retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
        fetch: async (url, init) => {
          sent.push({ url: String(url), body: JSON.parse(String(init?.body)) });
          return new Response('{"status":"success"}', { status: 202 });
        },
      }),
      appBaseUrl: 'http://portal.example',
      store,
    });
    const now = new Date('2026-01-02T00:00:00.000Z');
    const deliver = async (release: Release, type: 'succeeded' | 'rolled_back') => {
      const [{ message }] = notifier.messagesFor(release, [{ type, actor: 'release-pilot', message: type }]);
      const entry = { id: randomUUID(), releaseId: release.id, message, owner: 'group:default/team-checkout', attemptAfter: now.toISOString() };
      // The message is done and leads to one entry per channel that cares, each delivered on its own.
      const { done, next } = await notifier.deliver([entry], now);
      expect(done).toEqual([entry.id]);
      const channels = await notifier.deliver(next.map(n => ({ ...n, id: randomUUID(), attemptAfter: now.toISOString() })), now);
      expect(channels.retry).toEqual([]);
      return next.length;
    };
    expect(await deliver(releases[0], 'succeeded')).toBe(0);
    expect(sent).toEqual([]);
    expect(await deliver(releases[1], 'rolled_back')).toBe(1);
    expect(sent.map(s => s.body.event_action)).toEqual(['trigger']);
    await deliver(releases[2], 'succeeded');
    expect(sent.map(s => s.body.event_action)).toEqual(['trigger', 'resolve']);
    expect(sent[1].body).toEqual({ routing_key: 'KEY', event_action: 'resolve', dedup_key: 'release-pilot/component:default/checkout' });
    await deliver(releases[3], 'succeeded');
    expect(sent).toHaveLength(2);
  });
});
