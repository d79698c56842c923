// Helpers shared by the integration tests: a Backstage backend as a child process, polling, the
// releases HTTP API with a guest token, and processes stopped by their process group's PID.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sleep = ms => new Promise(r => setTimeout(r, ms));

/**
 * Starts a process in its own process group, keeping the last lines it printed in `child.log`. Its
 * PID is appended to $RELEASE_PILOT_IT_PIDFILE when set, so scripts/test.sh can stop whatever a
 * test that was itself killed left behind.
 */
export function startProcess(command, args, options = {}) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (process.env.RELEASE_PILOT_IT_PIDFILE && child.pid) {
    fs.appendFileSync(process.env.RELEASE_PILOT_IT_PIDFILE, `${child.pid}\n`);
  }
  child.log = [];
  if (!child.stdout) return child;
  const keep = chunk => { child.log.push(String(chunk)); if (child.log.length > 400) child.log.shift(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

/** Kills a process started by `startProcess` and everything it started, by its group's PID. */
export function kill(child, signal = 'SIGKILL') {
  if (!child) return;
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** The Backstage backend (`backstage-cli package start`) with app-config.yaml and the given overrides. */
export function startBackend(configs, env = {}) {
  return startProcess(
    process.execPath,
    [path.join(root, '.yarn/releases/yarn-4.13.0.cjs'), 'backstage-cli', 'package', 'start',
      '--config', '../../app-config.yaml', ...configs.flatMap(c => ['--config', path.relative(path.join(root, 'packages/backend'), c)])],
    { cwd: path.join(root, 'packages/backend'), env: { ...process.env, ...env } },
  );
}

/** Polls `fn` until it returns something truthy (an error with `fatal` set ends it at once); on timeout the error shows `logOf()`'s last lines. */
export async function until(what, fn, timeoutMs, logOf = () => []) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      if (error?.fatal) throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}\n${logOf().slice(-40).join('')}`);
    }
    await sleep(250);
  }
}

/** The integration configs' static token for pipelines (a service principal: what its accessRestrictions grant). */
export const PIPELINE_TOKEN = 'release-pilot-integration-token';

/**
 * The releases API of a backend at `base`: `api` as the guest user (a member of team-checkout, so
 * an owner of checkout and payments only), `pipeline` with the static token releases are created with.
 */
export function releasesApi(base, logOf) {
  let token;
  const call = async (bearer, method, url, body) => {
    const res = await fetch(`${base}/api/releases${url}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  };
  const api = (method, url, body) => call(token, method, url, body);
  const pipeline = (method, url, body) => call(PIPELINE_TOKEN, method, url, body);
  return {
    api,
    pipeline,
    token: () => token,
    async ready() {
      await until('the backend to answer', async () => (await fetch(`${base}/api/releases/health`)).ok, 180_000, logOf);
      // Until the catalog has the guest user, sign-in falls back to a token without the team's claim.
      token = await until('a guest token with the team-checkout claim', async () => {
        const res = await fetch(`${base}/api/auth/guest/refresh`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } });
        const { backstageIdentity } = await res.json();
        return backstageIdentity.identity.ownershipEntityRefs.includes('group:default/team-checkout') ? backstageIdentity.token : undefined;
      }, 120_000, logOf);
    },
    async release(id) {
      return (await api('GET', `/releases/${id}`)).body;
    },
    /** Creates a release, waiting for the catalog to ingest the entity first. */
    async create(entity, version, plan) {
      return until(`a release of ${entity} to be created`, async () => {
        const res = await pipeline('POST', '/releases', { entityRef: `component:default/${entity}`, version, plan });
        if (res.status === 404) return undefined;
        if (res.status !== 201) throw Object.assign(new Error(JSON.stringify(res.body)), { fatal: true });
        return res.body;
      }, 120_000, logOf);
    },
    async waitForState(id, state, timeoutMs) {
      return until(`release ${id} to be ${state}`, async () => {
        const now = (await api('GET', `/releases/${id}`)).body;
        return now.state === state ? now : undefined;
      }, timeoutMs, logOf);
    },
  };
}

export const eventAt = (r, type) => new Date(r.timeline.find(e => e.type === type)?.at ?? NaN).getTime();

/** Runs the release-pilot CLI against `base` with the integration tests' static token. */
export function runCli(base, ...args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [path.join(root, 'packages/cli/bin/release-pilot'), ...args], {
      env: { ...process.env, RELEASE_PILOT_URL: base, RELEASE_PILOT_TOKEN: PIPELINE_TOKEN },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { err += d; });
    child.on('close', code => resolve({ code, out, err }));
  });
}
