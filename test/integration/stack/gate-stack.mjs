// The resilience gate's stack, on top of the integration stack: the demo service's dependency (an
// inventory service), the canary and a stable-version gate instance each in a network namespace of
// its own (release-pilot-netns), each reading its dependency through a fault proxy of its own
// (release-pilot-fault-proxy, mockttp); the production stable instance reads it directly and sits on
// loopback behind HAProxy. Everything is stopped, and the namespaces removed, by stop().
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { kill, root, sleep, startProcess, until } from '../lib.mjs';
import { freePort, startStack } from './stack.mjs';

const chaos = path.join(root, 'plugins/releases-backend-module-chaos/bin');
const demo = path.join(root, 'test/integration/stack/demo-service.mjs');
export const NAMESPACES = {
  canary: { name: 'rp-gate-canary', host: '10.203.1.1', inside: '10.203.1.2' },
  stable: { name: 'rp-gate-stable', host: '10.203.2.1', inside: '10.203.2.2' },
};

const listening = (host, port, what) => until(`${what} on ${host}:${port}`, () => new Promise(resolve => {
  const socket = net.connect({ host, port }, () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
}), 20_000);

/** Runs a command in a namespace and returns its output (nft, ps). */
export function inNamespace(name, ...command) {
  return execFileSync('ip', ['netns', 'exec', name, ...command], { encoding: 'utf8' });
}

export async function startGateStack() {
  const processes = [];
  const started = child => { processes.push(child); return child; };
  for (const ns of Object.values(NAMESPACES)) {
    execFileSync(path.join(chaos, 'release-pilot-netns'), ['down', ns.name]);
    execFileSync(path.join(chaos, 'release-pilot-netns'), ['up', ns.name, `${ns.host}/30`, `${ns.inside}/30`]);
  }
  const ports = { dependency: await freePort(), canaryProxy: await freePort(), canaryControl: await freePort(), gateProxy: await freePort(), gateControl: await freePort(), gateStable: await freePort() };
  started(startProcess(process.execPath, [demo, '--port', String(ports.dependency), '--version', 'inventory']));
  const proxy = (port, control) => started(startProcess(path.join(chaos, 'release-pilot-fault-proxy'), ['--port', String(port), '--control-port', String(control), '--target', `http://127.0.0.1:${ports.dependency}`]));
  proxy(ports.canaryProxy, ports.canaryControl);
  proxy(ports.gateProxy, ports.gateControl);
  const stack = await startStack({ canaryHost: NAMESPACES.canary.inside, dependency: `http://127.0.0.1:${ports.dependency}/stock` });
  const stopAll = async () => {
    for (const child of processes) kill(child);
    await stack.stop();
    for (const ns of Object.values(NAMESPACES)) execFileSync(path.join(chaos, 'release-pilot-netns'), ['down', ns.name]);
  };
  try {
    // The gate's stable instance: the stable version, in its namespace, in no HAProxy backend.
    started(startProcess('ip', ['netns', 'exec', NAMESPACES.stable.name, process.execPath, demo, '--host', NAMESPACES.stable.inside, '--port', String(ports.gateStable),
      '--version', '1.4.1', '--dependency', `http://${NAMESPACES.stable.host}:${ports.gateProxy}/stock`]));
    await listening('127.0.0.1', ports.dependency, 'the dependency');
    await listening('127.0.0.1', ports.canaryControl, 'the canary\'s fault proxy');
    await listening('127.0.0.1', ports.gateControl, 'the gate stable instance\'s fault proxy');
    await listening(NAMESPACES.stable.inside, ports.gateStable, 'the gate stable instance');
  } catch (error) {
    await stopAll();
    throw error;
  }
  fs.mkdirSync(path.join(stack.dir, 'chaos'));
  return {
    stack,
    ports,
    /** The backend's environment for app-config.stack-gate.yaml. */
    env: {
      RELEASE_PILOT_STACK_HAPROXY_API_PORT: String(stack.ports.haproxyApi),
      RELEASE_PILOT_STACK_PROMETHEUS_PORT: String(stack.ports.prometheus),
      RELEASE_PILOT_STACK_STABLE_PORT: String(stack.ports.stable),
      RELEASE_PILOT_STACK_CANARY_PORT: String(stack.ports.canary),
      RELEASE_PILOT_STACK_CANARY_HOST: NAMESPACES.canary.inside,
      RELEASE_PILOT_STACK_CANARY_NETNS: NAMESPACES.canary.name,
      RELEASE_PILOT_STACK_CANARY_DEPENDENCY: `http://${NAMESPACES.canary.host}:${ports.canaryProxy}/stock`,
      RELEASE_PILOT_STACK_STABLE_DEPENDENCY: `http://127.0.0.1:${ports.dependency}/stock`,
      RELEASE_PILOT_STACK_CANARY_PROXY: `${NAMESPACES.canary.host}:${ports.canaryProxy}`,
      RELEASE_PILOT_STACK_CANARY_PROXY_CONTROL_PORT: String(ports.canaryControl),
      RELEASE_PILOT_STACK_GATE_STABLE: `${NAMESPACES.stable.inside}:${ports.gateStable}`,
      RELEASE_PILOT_STACK_GATE_STABLE_PROXY: `${NAMESPACES.stable.host}:${ports.gateProxy}`,
      RELEASE_PILOT_STACK_GATE_STABLE_PROXY_CONTROL_PORT: String(ports.gateControl),
      RELEASE_PILOT_STACK_DIR: stack.dir,
      RELEASE_PILOT_STACK_NODE: process.execPath,
      RELEASE_PILOT_STACK_DEPLOY_SCRIPT: path.join(root, 'test/integration/stack/deploy-side.mjs'),
    },
    /** The faults on the instances now: each fault proxy's, and the nftables set elements in each namespace. */
    async faults() {
      const proxyFault = async port => (await (await fetch(`http://127.0.0.1:${port}/fault`)).json()).fault;
      const nft = ns => {
        const rules = inNamespace(ns, 'nft', 'list', 'ruleset');
        return { rules, elements: /elements = \{/.test(rules) };
      };
      return {
        proxies: { canary: await proxyFault(ports.canaryControl), stable: await proxyFault(ports.gateControl) },
        nft: { canary: nft(NAMESPACES.canary.name), stable: nft(NAMESPACES.stable.name) },
        stressNg: execFileSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' }).split('\n').filter(line => /stress-ng/.test(line) && !/ps -eo/.test(line)),
      };
    },
    /** Sessions HAProxy sent to the canary server: the production requests it served. */
    async canaryProductionSessions() {
      const { haproxyCommand } = await import('./stack.mjs');
      const csv = await haproxyCommand(stack.ports.haproxyApi, 'show stat');
      const header = csv.split('\n')[0].replace(/^# /, '').split(',');
      const row = csv.split('\n').map(line => line.split(',')).find(cells => cells[0] === 'checkout' && cells[1] === 'canary');
      return Number(row[header.indexOf('stot')]);
    },
    async stop() {
      await stopAll();
      await sleep(100);
    },
  };
}
