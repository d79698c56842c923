import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { HaproxyTrafficRouter, readHaproxyOptions, RuntimeApi } from '@release-pilot/plugin-releases-backend-module-haproxy';
import { MetricProvider, TrafficRouter } from '@release-pilot/plugin-releases-node';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabases } from '../__testUtils__/databases';
import { makeRelease, makeStats } from '@release-pilot/plugin-releases-core/testUtils';
import { DEFAULT_WATCH_OPTIONS, FixedRuleJudge, JudgeCatalog, SeededRandom, VirtualClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver } from './ReleaseDriver';
import { TargetRegistry } from './TargetRegistry';

/*
 * A person's rollback always wins, on a router that cannot check fencing tokens. Two replicas
 * share one database and a real HAProxy whose runtime API answers slowly (a proxy in front of it
 * holds most commands 0-20 ms and one in five 100-150 ms, as a busy HAProxy or a lossy link would): replica a's tick moves the canary from 10 % to 50 % while a person
 * rolls the release back through replica b. Whatever order the calls land in, HAProxy must end at
 * canary weight 0, and the trials must include ones where a's call landed after the person's.
 */

jest.setTimeout(600_000);

const TRIALS = 100;
const PLAN: ReleasePlan = {
  name: 'race',
  steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 5, minCanaryRequests: 0 })),
};

const freePort = () =>
  new Promise<number>(resolve => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** A seeded generator for the proxy's delays and the person's timing: the same run every time. */
const seeded = (seed: number) => {
  const random = new SeededRandom(seed);
  return () => random.uniform();
};

/** A TCP proxy in front of HAProxy's runtime API that holds every command for `delayMs()`. */
async function slowProxy(to: number, delayMs: () => number) {
  const server = net.createServer({ allowHalfOpen: true }, client => {
    client.pause();
    setTimeout(() => {
      const upstream = net.connect(to, '127.0.0.1', () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', close);
      client.on('error', close);
    }, delayMs());
  });
  const port = await freePort();
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise(resolve => server.close(resolve)) };
}

const databases = createTestDatabases();

describe.each(databases.eachSupportedId())('a person\'s rollback racing a tick on a slow HAProxy, on %s', (databaseId: TestDatabaseId) => {
  let dir: string;
  let haproxy: ChildProcess;
  let api: RuntimeApi;
  let proxy: Awaited<ReturnType<typeof slowProxy>>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-race-'));
    const apiPort = await freePort();
    // The servers are never connected to: only their weights matter here.
    fs.writeFileSync(path.join(dir, 'haproxy.cfg'), `global
  stats socket ipv4@127.0.0.1:${apiPort} level admin
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
backend checkout
  server stable 127.0.0.1:9 weight 200
  server canary 127.0.0.1:9 weight 0
`);
    haproxy = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    api = new RuntimeApi(`127.0.0.1:${apiPort}`, 2000);
    for (let i = 0; ; i++) {
      try {
        await api.command('show info');
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise(r => setTimeout(r, 100));
      }
    }
    const random = seeded(15);
    proxy = await slowProxy(apiPort, () => (random() < 0.2 ? 100 + Math.floor(random() * 50) : Math.floor(random() * 20)));
  });

  afterAll(async () => {
    await proxy?.close();
    haproxy?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`ends at canary weight 0 in every one of ${TRIALS} trials`, async () => {
    const knex = await databases.init(databaseId);
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const clock = new VirtualClock('2026-01-01T00:00:00.000Z');
    const haproxyRouter = new HaproxyTrafficRouter(readHaproxyOptions(new ConfigReader({ type: 'haproxy', runtimeApi: `127.0.0.1:${proxy.port}`, backend: 'checkout' }), 'router'));
    // When each replica's calls landed, in order (the call has returned: HAProxy took it).
    const landed: Array<{ replica: string; weight: number }> = [];
    const routerOf = (replica: string): TrafficRouter => ({
      getCanaryWeight: context => haproxyRouter.getCanaryWeight(context),
      setCanaryWeight: async (context, weight) => {
        await haproxyRouter.setCanaryWeight(context, weight);
        landed.push({ replica, weight });
      },
    });
    const healthy: MetricProvider = {
      getSample: async () => ({ from: '', to: '', canary: makeStats(5000, 0, 40), baseline: makeStats(5000, 0, 40) }),
    };
    const replica = (owner: string) => {
      const targets = new TargetRegistry();
      targets.add({ name: 'simulator', trafficRouter: routerOf(owner), metricProvider: healthy });
      return new ReleaseDriver({
        store,
        targets,
        judges: JudgeCatalog.of(new FixedRuleJudge()),
        watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
        clock,
        logger: mockServices.logger.mock(),
        owner,
        options: { analysisWindowSeconds: 30, leaseSeconds: 30, engine: { maxConsecutiveProviderErrors: 60 } },
      });
    };
    const a = replica('replica-a');
    const b = replica('replica-b');
    const canaryWeight = async () => Number(/^(\d+)/.exec(await api.command('get weight checkout/canary'))![1]);
    const random = seeded(7);

    let won = 0;
    let raced = 0;
    let retried = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      await api.command('set server checkout/stable weight 200');
      await api.command('set server checkout/canary weight 0');
      const at = clock.now().toISOString();
      const release = makeRelease({ id: randomUUID(), version: `1.0.${trial}`, plan: PLAN, createdAt: at, updatedAt: at });
      await store.createRelease(release, { at, actor: 'user:default/alice', type: 'created', message: 'requested' });
      for (let i = 0; i < 5 && (await store.getRelease(release.id)).canaryWeight !== 10; i++) {
        clock.advance(1);
        await a.tick();
      }
      expect(await canaryWeight()).toBe(20);

      // a's next tick moves the canary to 50 %; the person's rollback comes through b while it is in flight.
      clock.advance(6);
      landed.length = 0;
      const tick = a.tick();
      await new Promise(resolve => setTimeout(resolve, Math.floor(random() * 60)));
      const rollback = b.applyUserAction(release.id, 'rollback', 'user:default/alice', `trial ${trial}`);
      const [ticked, rolledBack] = await Promise.allSettled([tick, rollback]);
      expect(ticked.status).toBe('fulfilled');
      expect(rolledBack.status).toBe('fulfilled');

      const firstZero = landed.findIndex(l => l.replica === 'replica-b' && l.weight === 0);
      if (firstZero >= 0 && landed.some((l, i) => l.replica === 'replica-a' && l.weight === 50 && i > firstZero)) raced++;
      // The person's call may itself have failed (HAProxy read back the other replica's weight):
      // the rollback then waits for its retry, which a later tick makes.
      for (let retry = 0; retry < 5 && (await store.getRelease(release.id)).state === 'rolling_back'; retry++) {
        if (retry === 0) retried++;
        clock.advance(61);
        await a.tick();
      }
      const final = await canaryWeight();
      if (final === 0 && (await store.getRelease(release.id)).state === 'rolled_back') won++;
      else console.log(`trial ${trial}: canary weight ${final}, state ${(await store.getRelease(release.id)).state}, calls ${JSON.stringify(landed)}`);
    }
    console.log(`rollback race on ${databaseId}: ${won} of ${TRIALS} won by the person (rolled back, HAProxy at canary weight 0); in ${raced} the lease holder's 50 % landed after the person's 0; ${retried} needed the rollback's retry (commands held 0-20 ms, one in five 100-150 ms)`);
    expect(won).toBe(TRIALS);
    // The race must really happen, or winning proves nothing.
    expect(raced).toBeGreaterThan(0);
  });
});
