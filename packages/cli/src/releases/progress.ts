import { describeGate, isActiveRelease, ReleaseDetails } from '@release-pilot/plugin-releases-common';
import { CliError, ReleasesHttpClient } from './client';

/** Exit codes of `--wait`: success, rolled back or failed, blocked before it started, an error. */
export const EXIT = { succeeded: 0, rolledBack: 1, blocked: 2, error: 3 } as const;

/**
 * A release across regions in one line: where the waves stand and each region's part, e.g.
 * "running wave 2/3: us-west-2 succeeded; eu-west-1 running step 3/6 at 25%; ap-south-1 waiting".
 */
function describeRegions(release: ReleaseDetails): string {
  const rollout = release.rollout!;
  const byRegion = new Map((release.regionReleases ?? []).map(r => [r.region!, r]));
  const parts = rollout.plan.waves.flat().map(name => {
    const region = byRegion.get(name);
    if (!region) return `${name} waiting`;
    const steps = region.plan.steps.length;
    const active = ['running', 'paused'].includes(region.state);
    return `${name} ${region.state}${active ? ` step ${Math.min(region.currentStep + 1, steps)}/${steps} at ${region.canaryWeight}%` : ''}`;
  });
  const wave = `wave ${Math.max(1, rollout.wave + 1)}/${rollout.plan.waves.length}`;
  const why = isActiveRelease(release.state) && !release.reason ? '' : ` (${release.reason ?? release.state})`;
  return `${release.state} ${wave}: ${parts.join('; ')}${why}`;
}

/** One line of progress, e.g. "running step 2/6 at 5% (Canary healthy so far: ...)". */
export function describe(release: ReleaseDetails): string {
  if (release.rollout) return describeRegions(release);
  const steps = release.plan.steps.length;
  const step = `step ${Math.min(release.currentStep + 1, steps)}/${steps}`;
  const managed = release.deployMode === 'deployer' || release.deployMode === 'confirm';
  let where = `${release.state} ${step} at ${release.canaryWeight}%`;
  if (release.state === 'watching') where = `watching at ${release.canaryWeight}% against the service's history`;
  if (release.state === 'deploying') where = `deploying ${release.version} to the canary side at 0%${release.operation?.progress ? `: ${release.operation.progress}` : ''}`;
  if (release.state === 'gating' && release.resilience) where = `resilience gate at 0%: ${describeGate(release.resilience)}`;
  if (release.state === 'promoting') where = `promoting: the stable side gets ${release.version}${release.operation?.progress ? ` (${release.operation.progress})` : ''}`;
  // A promoted release serves the version from the stable side.
  if (release.state === 'succeeded' && managed) where = `succeeded ${step} at 100% on the stable side`;
  const why = release.latestVerdict?.summary ?? release.reason;
  return `${where}${why ? ` (${why})` : ''}`;
}

/** The exit code a finished release gives `--wait`: 0 only when it succeeded (across regions: in every region). */
export function exitCodeOf(release: ReleaseDetails): number {
  if (release.rollout && release.rollout.skipped?.length) return EXIT.rolledBack;
  return release.state === 'succeeded' ? EXIT.succeeded : EXIT.rolledBack;
}

/**
 * Polls a release until it is no longer active, printing a line whenever its state, step or verdict
 * changes, and returns it.
 */
export async function waitFor(
  client: ReleasesHttpClient,
  id: string,
  print: (line: string) => void,
  options: { intervalMs: number; timeoutMs: number },
): Promise<ReleaseDetails> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const release = await client.get(id);
    const line = describe(release);
    if (line !== last) {
      print(`${new Date().toISOString()} ${release.entityRef} ${release.version}: ${line}`);
      last = line;
    }
    if (!isActiveRelease(release.state)) return release;
    if (Date.now() > deadline) {
      throw new CliError(`Release ${id} is still ${release.state} after ${Math.round(options.timeoutMs / 1000)} s; it goes on without this command`);
    }
    await new Promise(resolve => setTimeout(resolve, options.intervalMs));
  }
}
