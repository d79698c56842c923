import { ConfigReader } from '@backstage/config';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readHaproxyOptions } from './config';
import { HaproxyTrafficRouter, serverWeights } from './HaproxyTrafficRouter';
import { RuntimeApi } from './RuntimeApi';

/*
 * These tests run a real HAProxy (Debian's haproxy package, which `scripts/test.sh` installs) on
 * loopback, with two small HTTP servers as the stable and canary pools.
 */

const context = { entityRef: 'component:default/checkout', releaseId: 'r1', version: '2', annotations: {} };

async function listen(name: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const port = (server: http.Server) => (server.address() as AddressInfo).port;

async function freePort(): Promise<number> {
  const s = await listen('probe');
  const p = port(s);
  await new Promise(resolve => s.close(resolve));
  return p;
}

describe('HaproxyTrafficRouter against a real HAProxy', () => {
  let dir: string;
  let haproxy: ChildProcess;
  let stable: http.Server;
  let canary: http.Server;
  let frontPort: number;
  let apiPort: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-haproxy-'));
    stable = await listen('stable');
    canary = await listen('canary');
    frontPort = await freePort();
    apiPort = await freePort();
    fs.writeFileSync(
      path.join(dir, 'haproxy.cfg'),
      `global
  stats socket ipv4@127.0.0.1:${apiPort} level admin
  stats socket ${dir}/admin.sock mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend fe
  bind 127.0.0.1:${frontPort}
  default_backend checkout
backend checkout
  balance roundrobin
  server stable 127.0.0.1:${port(stable)} weight 200
  server canary 127.0.0.1:${port(canary)} weight 0
`,
    );
    haproxy = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    const api = new RuntimeApi(`127.0.0.1:${apiPort}`, 1000);
    for (let i = 0; ; i++) {
      try {
        await api.command('show info');
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise(r => setTimeout(r, 100));
      }
    }
  });

  afterAll(async () => {
    haproxy?.kill('SIGKILL');
    await Promise.all([stable, canary].map(s => new Promise(resolve => s.close(resolve))));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function router(extra: Record<string, unknown> = {}) {
    return new HaproxyTrafficRouter(
      readHaproxyOptions(new ConfigReader({ type: 'haproxy', runtimeApi: `127.0.0.1:${apiPort}`, ...extra }), 'releases.targets.vm.router'),
    );
  }

  async function split(requests: number) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const seen = { stable: 0, canary: 0, failed: 0 };
    await Promise.all(
      Array.from({ length: requests }, () =>
        new Promise<void>(resolve => {
          http
            .get({ host: '127.0.0.1', port: frontPort, path: '/', agent }, res => {
              let body = '';
              res.on('data', d => (body += d));
              res.on('end', () => {
                if (res.statusCode === 200) seen[body as 'stable' | 'canary']++;
                else seen.failed++;
                resolve();
              });
            })
            .on('error', () => {
              seen.failed++;
              resolve();
            });
        }),
      ),
    );
    agent.destroy();
    return seen;
  }

  it('sets and reads back the canary share, and the traffic follows it', async () => {
    const r = router();
    expect(await r.getCanaryWeight(context)).toBe(0);
    await r.setCanaryWeight(context, 25);
    expect(await r.getCanaryWeight(context)).toBe(25);
    const api = new RuntimeApi(`127.0.0.1:${apiPort}`, 1000);
    expect(await api.command('get weight checkout/canary')).toBe('50 (initial 0)');
    expect(await api.command('get weight checkout/stable')).toBe('150 (initial 200)');
    const seen = await split(400);
    expect(seen.failed).toBe(0);
    // Weighted round robin: a quarter of the requests, give or take where the rotation started.
    expect(Math.abs(seen.canary - 100)).toBeLessThanOrEqual(2);
    await r.setCanaryWeight(context, 100);
    expect((await split(50)).canary).toBe(50);
    await r.setCanaryWeight(context, 0);
    expect((await split(50)).stable).toBe(50);
  });

  it('drops no request while the weights change under load', async () => {
    const r = router();
    const load = split(3000);
    for (const weight of [1, 5, 10, 25, 50, 100, 0, 100, 0]) await r.setCanaryWeight(context, weight);
    const seen = await load;
    expect(seen.failed).toBe(0);
    expect(seen.stable + seen.canary).toBe(3000);
  });

  it('works over the unix socket and takes the backend and servers from annotations', async () => {
    const r = router({ runtimeApi: `unix:${dir}/admin.sock`, backend: 'nope' });
    const annotated = {
      ...context,
      annotations: {
        'release-pilot.io/haproxy-backend': 'checkout',
        'release-pilot.io/haproxy-canary-servers': 'canary',
        'release-pilot.io/haproxy-stable-servers': 'stable',
      },
    };
    await r.setCanaryWeight(annotated, 10);
    expect(await r.getCanaryWeight(annotated)).toBe(10);
    await r.setCanaryWeight(annotated, 0);
  });

  it('never sends an annotation that could end the command: an injected command does not reach HAProxy', async () => {
    const api = new RuntimeApi(`127.0.0.1:${apiPort}`, 1000);
    const before = await api.command('get weight checkout/stable');
    const injections = [
      'x; set server checkout/stable weight 0; get weight checkout',
      'checkout\nset server checkout/stable weight 0',
    ];
    for (const backend of injections) {
      const hostile = { ...context, annotations: { 'release-pilot.io/haproxy-backend': backend } };
      await expect(router().getCanaryWeight(hostile)).rejects.toThrow(/^The HAProxy backend '.*' is not allowed; it must be letters, digits and \. _ - :, 1 to 64 characters$/);
      await expect(router().setCanaryWeight(hostile, 50)).rejects.toThrow(/is not allowed/);
    }
    const servers = { ...context, annotations: { 'release-pilot.io/haproxy-canary-servers': 'canary weight 0; set server checkout/stable weight 0' } };
    await expect(router().setCanaryWeight(servers, 50)).rejects.toThrow(/^The HAProxy canary server .* is not allowed/);
    expect(await api.command('get weight checkout/stable')).toBe(before);
  });

  it('fails with a message naming what is wrong: unknown backend or server, unreachable API', async () => {
    await expect(router({ backend: 'missing' }).setCanaryWeight(context, 10)).rejects.toThrow(
      /HAProxy has no server missing\/(canary|stable): No such backend/,
    );
    await expect(router({ canaryServers: ['green'] }).getCanaryWeight(context)).rejects.toThrow(
      /no server checkout\/green: No such server/,
    );
    await expect(router({ runtimeApi: '127.0.0.1:7019' }).getCanaryWeight(context)).rejects.toThrow(
      /runtime API at 127.0.0.1:7019: connect ECONNREFUSED/,
    );
  });
});

describe('HAProxy router config and weights', () => {
  it('spreads each side over its servers and never rounds a share above 0 to weight 0', () => {
    expect(serverWeights(10, 1, 1)).toEqual({ canary: 20, stable: 180 });
    expect(serverWeights(1, 3, 2)).toEqual({ canary: 1, stable: 99 });
    expect(serverWeights(100, 2, 2)).toEqual({ canary: 100, stable: 0 });
  });

  it('names the bad key', () => {
    const read = (c: Record<string, unknown>) => readHaproxyOptions(new ConfigReader({ type: 'haproxy', ...c }), 'releases.targets.vm.router');
    expect(() => read({ runtimeApi: 'localhost' })).toThrow(/releases\.targets\.vm\.router\.runtimeApi: 'localhost' is not a runtime API address/);
    expect(() => read({ runtimeApi: '127.0.0.1:9999', canaryServers: [] })).toThrow(/router\.canaryServers/);
    expect(() => read({ runtimeApi: '127.0.0.1:9999', weights: 1 })).toThrow(/router/);
    expect(read({ runtimeApi: 'unix:/run/haproxy.sock' }).backend).toBe('${entityName}');
  });
});
