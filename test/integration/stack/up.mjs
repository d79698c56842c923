#!/usr/bin/env node
// Try Release Pilot on real parts: starts the integration stack (Prometheus, HAProxy, the demo
// service as stable and canary, 200 requests/s of load, 20/s on the preview path) and Backstage with
// the target `vm` (haproxy + prometheus) and the entity `checkout-vm`. Like a CD pipeline, it puts
// the version of each new release of checkout-vm on the canary: a version ending in -faulty answers
// 8 % errors and 150 ms slower, one ending in -late does so from 6 s after its first user traffic
// (try it with the blue-green plan). Ctrl-C stops everything. Started by scripts/stack.sh.
import fs from 'node:fs';
import path from 'node:path';
import { kill, root, sleep, startProcess } from '../lib.mjs';
import { startLoad, startStack } from './stack.mjs';

const stack = await startStack();
await stack.deployCanary('1.4.1');
const load = startLoad(stack.ports.front, { rps: 200 });
const preview = startLoad(stack.ports.preview, { rps: 20 });

const entities = path.join(stack.dir, 'entities.yaml');
fs.writeFileSync(entities, `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-vm
  description: Checkout on VMs behind HAProxy, measured by Prometheus (the local integration stack)
  annotations:
    release-pilot.io/target: vm
    release-pilot.io/plan: vm-canary
    release-pilot.io/haproxy-backend: checkout
    release-pilot.io/prometheus-canary-selector: 'service="checkout",track="canary"'
    release-pilot.io/prometheus-baseline-selector: 'service="checkout",track="stable"'
    release-pilot.io/prometheus-service-selector: 'service="checkout"'
spec:
  type: service
  lifecycle: production
  owner: team-checkout
`);
const config = path.join(stack.dir, 'app-config.stack.yaml');
const stackConfig = fs.readFileSync(path.join(root, 'test/integration/stack/app-config.stack.yaml'), 'utf8');
const releases = stackConfig.slice(stackConfig.indexOf('\nreleases:') + 1)
  .replaceAll('${RELEASE_PILOT_STACK_HAPROXY_API_PORT}', String(stack.ports.haproxyApi))
  .replaceAll('${RELEASE_PILOT_STACK_PROMETHEUS_PORT}', String(stack.ports.prometheus));
fs.writeFileSync(config, `catalog:
  locations:
    - { type: file, target: ${path.join(root, 'examples/entities.yaml')}, rules: [ { allow: [Component, System] } ] }
    - { type: file, target: ${path.join(root, 'examples/template/template.yaml')}, rules: [ { allow: [Template] } ] }
    - { type: file, target: ${path.join(root, 'examples/org.yaml')}, rules: [ { allow: [User, Group] } ] }
    - { type: file, target: ${entities}, rules: [ { allow: [Component] } ] }
${releases}`);

// checkout-vm's annotations name the stack's backend and labels, "checkout": the target must allow them.
const allow = path.join(stack.dir, 'app-config.stack-allow.yaml');
fs.writeFileSync(allow, `releases:
  targets:
    vm:
      allow:
        haproxy-backend: [checkout]
        prometheus-canary-selector: ['service="checkout",track="canary"']
        prometheus-baseline-selector: ['service="checkout",track="stable"']
        prometheus-service-selector: ['service="checkout"']
`);
const app = startProcess(process.execPath, [path.join(root, '.yarn/releases/yarn-4.13.0.cjs'), 'start', '--config', path.join(root, 'app-config.yaml'), '--config', config, '--config', allow], { cwd: root, stdio: 'inherit' });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  kill(app);
  await Promise.allSettled([load.stop(), preview.stop()]);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
app.on('exit', stop);

console.log(`\nIntegration stack up: HAProxy users :${stack.ports.front}, preview :${stack.ports.preview}, runtime API :${stack.ports.haproxyApi}; Prometheus http://127.0.0.1:${stack.ports.prometheus}`);
console.log('Open http://localhost:3000, Catalog > checkout-vm > Releases. Versions ending in -faulty or -late misbehave. Ctrl-C stops everything.\n');

// The "pipeline": put each new release's version on the canary before the driver's first tick.
const seen = new Set();
let token;
for (;;) {
  await sleep(500);
  try {
    token ??= (await (await fetch('http://localhost:7007/api/auth/guest/refresh', { headers: { 'X-Requested-With': 'XMLHttpRequest' } })).json()).backstageIdentity.token;
    const res = await fetch('http://localhost:7007/api/releases/releases?entityRef=component:default/checkout-vm&limit=5', { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 401) token = undefined;
    for (const release of (await res.json()).items ?? []) {
      if (release.state !== 'pending' || seen.has(release.id)) continue;
      seen.add(release.id);
      let fault = 'none';
      if (/-faulty$/.test(release.version)) fault = 'errors';
      if (/-late$/.test(release.version)) fault = 'late';
      await stack.switchCanary(release.version, fault);
      console.log(`[stack] canary now runs ${release.version} (fault: ${fault})`);
    }
  } catch {
    // Backstage is still starting.
  }
}
