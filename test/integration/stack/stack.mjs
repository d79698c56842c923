// The integration stack: real Prometheus (1 s scrapes) and HAProxy from Debian's packages, a stable
// and a canary instance of the demo service behind HAProxy, all on loopback in a temporary folder.
// Everything started here is stopped by PID in stop(), also when a test fails.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kill, sleep, startProcess, until } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A TCP port nothing listens on right now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** Sends one command to HAProxy's runtime API and resolves with the answer. */
export function haproxyCommand(port, command) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(2000, () => { socket.destroy(); reject(new Error(`runtime API: no answer to ${command}`)); });
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', d => { answer += d; });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.trim()));
  });
}

/** Prometheus' config: one job scraping each of `targets` ({ address, labels }) every second. */
function prometheusConfig(targets) {
  const configs = targets.map(t => `      - targets: ['${t.address}']\n        labels: ${JSON.stringify(t.labels)}\n`).join('');
  return `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: checkout\n    static_configs:\n${configs}`;
}

/** Starts Prometheus on `port` with its config and data in `dir`: the process, and a promise that it is ready. */
function runPrometheus(dir, port) {
  const child = startProcess('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'prometheus')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const ready = until('Prometheus to be ready', async () => (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => ({ ok: false }))).ok, 30_000);
  return { child, ready };
}

/**
 * One Prometheus for several stacks (regions): it scrapes every stack's services, each with the
 * extra labels `labelsOf(name)` gives (e.g. `{ region }`). Stop it with `stop()`.
 */
export async function startSharedPrometheus(stacks, labelsOf) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-pilot-stack-prometheus-'));
  const port = await freePort();
  const targets = Object.entries(stacks).flatMap(([name, stack]) => stack.scrapeTargets.map(t => ({ ...t, labels: { ...t.labels, ...labelsOf(name) } })));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), prometheusConfig(targets));
  const { child, ready } = runPrometheus(dir, port);
  await ready.catch(error => {
    kill(child);
    throw error;
  });
  return {
    port,
    async stop() {
      kill(child);
      await sleep(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A stack; `{ prometheus: false }` leaves its services to a shared Prometheus (`startSharedPrometheus`).
 * `canaryHost` puts the canary elsewhere than loopback (in a network namespace: the gate stack);
 * `dependency` is the URL the production stable instance reads its dependency at.
 */
export async function startStack({ prometheus: ownPrometheus = true, canaryHost = '127.0.0.1', dependency } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-pilot-stack-'));
  const ports = {
    front: await freePort(),
    preview: await freePort(),
    haproxyApi: await freePort(),
    prometheus: await freePort(),
    stable: await freePort(),
    canary: await freePort(),
  };
  const processes = new Set();
  const started = (child, name) => {
    child.name = name;
    processes.add(child);
    child.on('exit', () => processes.delete(child));
    return child;
  };

  const ownTargets = [
    { address: `127.0.0.1:${ports.stable}`, labels: { service: 'checkout', track: 'stable' } },
    { address: `${canaryHost}:${ports.canary}`, labels: { service: 'checkout', track: 'canary' } },
  ];
  if (ownPrometheus) fs.writeFileSync(path.join(dir, 'prometheus.yml'), prometheusConfig(ownTargets));
  // Two frontends: users on "front" (stable and canary by weight), the blue-green preview path on
  // "preview" (canary only, marked with X-Preview). No health checks: the weights alone decide.
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), `global
  stats socket ipv4@127.0.0.1:${ports.haproxyApi} level admin
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend users
  bind 127.0.0.1:${ports.front}
  default_backend checkout
frontend preview
  bind 127.0.0.1:${ports.preview}
  http-request set-header X-Preview 1
  default_backend checkout-preview
backend checkout
  balance roundrobin
  http-response set-header X-Served-By %s
  server stable 127.0.0.1:${ports.stable} weight 200
  server canary ${canaryHost}:${ports.canary} weight 0
backend checkout-preview
  server canary ${canaryHost}:${ports.canary}
`);

  const service = (port, version, fault, extra = []) =>
    started(startProcess(process.execPath, [path.join(here, 'demo-service.mjs'), '--port', String(port), '--version', version, '--fault', fault, ...extra]), `demo ${version}`);
  const listening = (port, what) => until(`${what} on ${port}`, () => new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  }), 20_000);

  const stack = {
    dir,
    ports,
    canary: undefined,
    async stop() {
      for (const child of processes) kill(child);
      await sleep(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** Canary and stable weights as HAProxy holds them. */
    async weights() {
      const read = async server => Number((await haproxyCommand(ports.haproxyApi, `get weight checkout/${server}`)).split(' ')[0]);
      return { canary: await read('canary'), stable: await read('stable') };
    },
    /** Reads HAProxy's weights every `intervalMs` into `readings` ({ at, canary, stable }) until `stop()`. */
    pollWeights(intervalMs = 100) {
      const readings = [];
      let running = true;
      const done = (async () => {
        while (running) {
          const weights = await stack.weights().catch(() => undefined);
          if (weights) readings.push({ at: Date.now(), ...weights });
          await sleep(intervalMs);
        }
      })();
      return { readings, stop: async () => { running = false; await done; return readings; } };
    },
    /** Deploys a new canary version at weight 0, as a pipeline does before it starts a release. */
    async deployCanary(version, fault = 'none', { warmUp = 0 } = {}) {
      // Users back on stable first; the old canary finishes its requests and stops gracefully.
      await haproxyCommand(ports.haproxyApi, 'set server checkout/stable weight 200');
      await haproxyCommand(ports.haproxyApi, 'set server checkout/canary weight 0');
      if (stack.canary) {
        const old = stack.canary;
        await sleep(500);
        kill(old, 'SIGTERM');
        await until('the old canary to stop', async () => old.exitCode !== null || old.signalCode !== null, 10_000)
          .catch(() => kill(old));
      }
      stack.canary = service(ports.canary, version, fault);
      await listening(ports.canary, `canary ${version}`);
      // A pipeline's smoke test: warm the new process up (JIT, connections) before users reach it.
      for (let sent = 0; sent < warmUp; sent += 8) {
        await Promise.all(Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${ports.canary}/checkout`).then(r => r.text()).catch(() => undefined)));
      }
      // Let Prometheus scrape the new instance once, so the release starts from a known counter.
      await sleep(1500);
    },
    /** Switches the running canary to another version and fault at once (no restart, no weight change). */
    async switchCanary(version, fault = 'none') {
      const res = await fetch(`http://127.0.0.1:${ports.canary}/admin?${new URLSearchParams({ version, fault })}`, { method: 'POST' });
      if (!res.ok) throw new Error(`the canary refused ${fault}: ${await res.text()}`);
    },
    async canaryStats() {
      return (await fetch(`http://127.0.0.1:${ports.canary}/stats`)).json();
    },
    /** Prometheus stops answering (SIGSTOP: queries time out) until `resumePrometheus`. */
    pausePrometheus() {
      kill(stack.prometheus, 'SIGSTOP');
    },
    resumePrometheus() {
      kill(stack.prometheus, 'SIGCONT');
    },
    /** Prometheus goes down (SIGKILL: connections refused). */
    async stopPrometheus() {
      const old = stack.prometheus;
      kill(old);
      await until('Prometheus to exit', async () => old.exitCode !== null || old.signalCode !== null, 10_000);
    },
    /** Starts Prometheus on its port and data (again) and waits until it is ready. */
    async startPrometheus() {
      const { child, ready } = runPrometheus(dir, ports.prometheus);
      stack.prometheus = started(child, 'prometheus');
      await ready;
    },
    /** What a Prometheus scrapes of this stack: both services, labelled by service and track. */
    scrapeTargets: ownTargets,
  };

  try {
    const prometheusReady = ownPrometheus ? stack.startPrometheus() : Promise.resolve();
    started(startProcess('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')]), 'haproxy');
    stack.stable = service(ports.stable, '1.4.1', 'none', dependency ? ['--dependency', dependency] : []);
    await listening(ports.stable, 'stable service');
    await listening(ports.haproxyApi, 'HAProxy runtime API');
    await prometheusReady;
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/**
 * A bounded load generator: `rps` requests per second to `port` over keep-alive connections, at
 * most `concurrency` in flight. Counts answers by status and, separately, failures that are not the
 * service's own answers: connection errors and HAProxy's 502/503/504 (what a weight change could cause).
 */
export function startLoad(port, { rps, concurrency = 64, headers = {}, onAnswer }) {
  const counts = { sent: 0, ok: 0, serviceErrors: 0, connectionErrors: 0, routerErrors: 0, skipped: 0 };
  const failures = [];
  let inFlight = 0;
  const send = async () => {
    if (inFlight >= concurrency) { counts.skipped++; return; }
    inFlight++;
    counts.sent++;
    const sentAt = Date.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/checkout`, { headers });
      const body = await res.text();
      onAnswer?.({ at: Date.now(), sentAt, status: res.status, body, servedBy: res.headers.get('x-served-by') ?? undefined });
      if (res.status === 200) counts.ok++;
      else if (res.status === 500 && body.startsWith('injected fault')) counts.serviceErrors++;
      else {
        counts.routerErrors++;
        if (failures.length < 20) failures.push(`${new Date().toISOString()} HTTP ${res.status}: ${body.slice(0, 100)}`);
      }
    } catch (error) {
      counts.connectionErrors++;
      if (failures.length < 20) failures.push(`${new Date().toISOString()} ${error.message}: ${error.cause?.message ?? ''}`);
    } finally {
      inFlight--;
    }
  };
  const perTick = rps / 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    while (owed >= 1) { owed--; void send(); }
  }, 10);
  return {
    counts,
    failures,
    async stop() {
      clearInterval(timer);
      await until('in-flight requests to finish', async () => inFlight === 0, 10_000);
      return counts;
    },
  };
}
