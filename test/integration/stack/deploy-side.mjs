#!/usr/bin/env node
// The integration stack's deploy step, run by the `command` deployer: it replaces the demo service
// process of one side with the version it is given, as an Ansible play or an SSH script would on a
// VM. Environment (from Release Pilot): RELEASE_PILOT_ACTION (deploy | scale-down), _SIDE, _VERSION;
// (from the test) RELEASE_PILOT_STACK_DIR (pid files), RELEASE_PILOT_STACK_STABLE_PORT, _CANARY_PORT.
// A version ending in -faulty runs with --fault errors. The gate stack sets RELEASE_PILOT_STACK_CANARY_NETNS
// and _CANARY_HOST (the canary runs in that network namespace, on that address) and _CANARY_DEPENDENCY /
// _STABLE_DEPENDENCY (each side's dependency URL: the canary's goes through its fault proxy). It stops the old process gracefully
// (SIGTERM: in-flight requests finish, then it exits), starts the new one and exits; Release
// Pilot's readiness check (GET /stats answers the version) says when the side is ready.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A region's stack (the regions test) passes its own folder, ports and region name as arguments:
// deploy-side.mjs DIR STABLE_PORT CANARY_PORT REGION; a version ending in -faulty-in-REGION fails there only.
const [argDir, argStable, argCanary, region] = process.argv.slice(2);
const { RELEASE_PILOT_ACTION: action, RELEASE_PILOT_SIDE: side, RELEASE_PILOT_VERSION: version } = process.env;
const dir = argDir ?? process.env.RELEASE_PILOT_STACK_DIR;
if (!['canary', 'stable'].includes(side) || !dir) {
  console.error(`deploy-side: unexpected side '${side}' or no RELEASE_PILOT_STACK_DIR`);
  process.exit(2);
}
const port = Number(side === 'canary' ? argCanary ?? process.env.RELEASE_PILOT_STACK_CANARY_PORT : argStable ?? process.env.RELEASE_PILOT_STACK_STABLE_PORT);
const faulty = version.endsWith('-faulty') || (region !== undefined && version.endsWith(`-faulty-in-${region}`));
const pidFile = path.join(dir, `${side}.pid`);
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const alive = pid => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const old = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined;
if (old) {
  // Graceful: the process stops listening at once and exits once its in-flight requests are answered.
  try { process.kill(old, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 100 && alive(old); i++) await sleep(100);
  if (alive(old)) process.kill(old, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
}
fs.appendFileSync(path.join(dir, 'deploys.log'), `${new Date().toISOString()} ${action} ${side} ${version}\n`);
if (action === 'scale-down') process.exit(0);

const service = path.join(path.dirname(fileURLToPath(import.meta.url)), 'demo-service.mjs');
const env = name => process.env[`RELEASE_PILOT_STACK_${side.toUpperCase()}_${name}`];
const serviceArgs = [service, '--port', String(port), '--version', version, '--fault', faulty ? 'errors' : 'none'];
if (env('HOST')) serviceArgs.push('--host', env('HOST'));
if (env('DEPENDENCY')) serviceArgs.push('--dependency', env('DEPENDENCY'));
// `ip netns exec` execs the service: the pid is the service's own.
const [program, args] = env('NETNS') ? ['ip', ['netns', 'exec', env('NETNS'), process.execPath, ...serviceArgs]] : [process.execPath, serviceArgs];
const child = spawn(program, args, {
  detached: true,
  stdio: 'ignore',
});
fs.writeFileSync(pidFile, String(child.pid));
if (process.env.RELEASE_PILOT_IT_PIDFILE) fs.appendFileSync(process.env.RELEASE_PILOT_IT_PIDFILE, `${child.pid}\n`);
child.unref();
