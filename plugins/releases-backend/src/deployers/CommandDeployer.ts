import { spawn } from 'node:child_process';
import { Config } from '@backstage/config';
import {
  Deployer,
  DeploySide,
  DeployStatus,
  entityNameOf,
  parseConfigBlock,
  ReleaseTargetContext,
  SideVersions,
} from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

const urlTemplate = z.string().regex(/^https?:\/\/\S+$/, 'an http(s) URL; ${entityName} is filled in');

/** `releases.targets.<name>.deployer` of type `command`: the team's own deploy step, then a readiness check per side. */
export const commandDeployerSchema = z
  .object({
    type: z.literal('command'),
    /** The program and its arguments, run without a shell; it gets the release in its environment. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Or a webhook: a POST with `{ action, side, version, entityRef, releaseId }` as JSON; 2xx means accepted. */
    url: urlTemplate.optional(),
    /** Per side, a URL that answers 200 with the version the side runs (plain text, or JSON with `version`). */
    readiness: z.object({ canary: urlTemplate, stable: urlTemplate }).strict(),
    /** Also run the command with action `scale-down` after a promotion or rollback (else the canary side is left running). */
    scaleDown: z.boolean().default(false),
    /** Seconds one run of the command may take before it is killed. */
    commandTimeoutSeconds: z.number().positive().max(3600).default(300),
    /** Seconds a readiness check may take. */
    timeoutSeconds: z.number().positive().max(60).default(5),
  })
  .strict()
  .refine(o => (o.command === undefined) !== (o.url === undefined), { message: 'set either command or url', path: ['command'] });

export type CommandDeployerOptions = z.infer<typeof commandDeployerSchema>;

export function readCommandDeployerOptions(config: Config, at: string): CommandDeployerOptions {
  return parseConfigBlock(commandDeployerSchema, config, at);
}

type Action = 'deploy' | 'scale-down';

interface Run {
  done: boolean;
  ok?: boolean;
  output: string;
  startedAt: number;
}

/**
 * The `command` deployer, for VM fleets behind HAProxy and teams with their own deploy step
 * (Ansible, SSH, a pipeline trigger): it runs the configured program (no shell: the release's
 * values go in as environment variables) or calls the webhook, with the side and the version, then
 * polls the side's readiness URL until it answers with that version. A side that already answers
 * with the version needs no run, so a call repeated after a crash does nothing twice; a run in
 * flight is not started again.
 */
export class CommandDeployer implements Deployer {
  readonly #runs = new Map<string, Run>();

  constructor(private readonly options: CommandDeployerOptions) {}

  private async versionAt(context: ReleaseTargetContext, side: DeploySide): Promise<string | undefined> {
    const url = this.options.readiness[side].replaceAll('${entityName}', encodeURIComponent(entityNameOf(context)));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000) });
      if (!res.ok) return undefined;
      const text = (await res.text()).trim();
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed.version === 'string') return parsed.version;
      } catch {
        // plain text
      }
      return text.length > 0 && text.length <= 128 ? text : undefined;
    } catch {
      return undefined;
    }
  }

  private start(key: string, context: ReleaseTargetContext, action: Action, side: DeploySide, version: string): Run {
    const run: Run = { done: false, output: '', startedAt: Date.now() };
    this.#runs.set(key, run);
    const finish = (ok: boolean, output: string) => {
      run.done = true;
      run.ok = ok;
      run.output = output.slice(-500);
    };
    if (this.options.url) {
      const url = this.options.url.replaceAll('${entityName}', encodeURIComponent(entityNameOf(context)));
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action, side, version, entityRef: context.entityRef, releaseId: context.releaseId, fencingToken: context.fencingToken }),
        signal: AbortSignal.timeout(this.options.commandTimeoutSeconds * 1000),
      })
        .then(async res => finish(res.ok, res.ok ? '' : `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`))
        .catch(error => finish(false, String(error?.message ?? error)));
      return run;
    }
    const [program, ...args] = this.options.command!;
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: this.options.commandTimeoutSeconds * 1000,
      env: {
        ...process.env,
        RELEASE_PILOT_ACTION: action,
        RELEASE_PILOT_SIDE: side,
        RELEASE_PILOT_VERSION: version,
        RELEASE_PILOT_ENTITY: context.entityRef,
        RELEASE_PILOT_ENTITY_NAME: entityNameOf(context),
        RELEASE_PILOT_RELEASE_ID: context.releaseId,
        // The lease's fencing token: a step that keeps the highest it has seen can refuse a stale replica's call.
        ...(context.fencingToken === undefined ? {} : { RELEASE_PILOT_FENCING_TOKEN: String(context.fencingToken) }),
      },
    });
    let output = '';
    child.stdout.on('data', d => (output = (output + d).slice(-2000)));
    child.stderr.on('data', d => (output = (output + d).slice(-2000)));
    child.on('error', error => finish(false, error.message));
    child.on('close', (code, signal) => finish(code === 0, code === 0 ? output : `exited with ${signal ?? code}: ${output.trim()}`));
    return run;
  }

  /** Starts the action unless it runs already; throws when its last run failed (the next call starts it again). */
  private carryOn(context: ReleaseTargetContext, action: Action, side: DeploySide, version: string): string {
    const key = `${context.entityRef}|${action}|${side}|${version}`;
    const run = this.#runs.get(key);
    if (!run) {
      this.start(key, context, action, side, version);
      return `started ${this.options.url ? 'the deploy webhook' : 'the deploy command'}`;
    }
    if (!run.done) return `${this.options.url ? 'webhook' : 'command'} running for ${((Date.now() - run.startedAt) / 1000).toFixed(0)} s`;
    if (!run.ok) {
      this.#runs.delete(key);
      throw new Error(`the ${action} ${this.options.url ? 'webhook' : 'command'} failed: ${run.output}`);
    }
    return 'waiting for the readiness check';
  }

  async ensure(context: ReleaseTargetContext, side: DeploySide, version: string): Promise<DeployStatus> {
    const running = await this.versionAt(context, side);
    const key = `${context.entityRef}|deploy|${side}|${version}`;
    const run = this.#runs.get(key);
    if (running === version && (!run || run.done)) {
      this.#runs.delete(key);
      return { done: true, progress: `${side} answers ${version}`, sides: { [side]: running } };
    }
    const progress = this.carryOn(context, 'deploy', side, version);
    return { done: false, progress: `${progress}; the ${side} side answers ${running ?? 'nothing yet'}`, sides: { [side]: running } };
  }

  async scaleDownCanary(context: ReleaseTargetContext): Promise<DeployStatus> {
    if (!this.options.scaleDown) return { done: true, progress: 'this target leaves its canary side running', sides: {} };
    const key = `${context.entityRef}|scale-down|canary|-`;
    const run = this.#runs.get(key);
    if (run?.done && run.ok) {
      this.#runs.delete(key);
      return { done: true, progress: 'canary scaled down', sides: { canaryUp: false } };
    }
    return { done: false, progress: this.carryOn(context, 'scale-down', 'canary', '-'), sides: {} };
  }

  async readSides(context: ReleaseTargetContext): Promise<SideVersions> {
    const stable = await this.versionAt(context, 'stable');
    const canary = await this.versionAt(context, 'canary');
    return { stable, canary };
  }
}
