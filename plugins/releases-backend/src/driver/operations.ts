import { Release } from '@release-pilot/plugin-releases-common';
import { ReleaseTarget, ReleaseTargetContext, SideVersions } from '@release-pilot/plugin-releases-node';
import { EngineEvent } from '@release-pilot/plugin-releases-core';
import { errorText } from './errorText';

/** No single deployer call may hold a tick longer than this; the operation as a whole has the target's timeout. */
export const DEPLOYER_CALL_TIMEOUT_MS = 30_000;

async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${DEPLOYER_CALL_TIMEOUT_MS / 1000} s`)), DEPLOYER_CALL_TIMEOUT_MS);
    timer.unref?.();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a pending release starts from: the router's weight, and each side's version where a deployer can read it. */
export async function readTargetState(
  release: Release,
  target: ReleaseTarget,
  context: ReleaseTargetContext,
): Promise<{ canaryWeight: number; sides?: SideVersions }> {
  const canaryWeight = await target.trafficRouter.getCanaryWeight(context);
  if (release.deployMode !== 'deployer' || !target.deployer) return { canaryWeight };
  const sides = await bounded(target.deployer.readSides(context), 'the deployer');
  return { canaryWeight, sides };
}

/**
 * The traffic a side may carry while the deployer changes it: none. The canary is deployed (and
 * scaled down) at 0 %; the stable side changes (promoted, or restored in a rollback) while the
 * canary serves 100 %.
 */
function trafficGuard(release: Release, weight: number): string | undefined {
  const op = release.operation!;
  if ((op.kind === 'deployCanary' || op.kind === 'scaleDownCanary') && weight !== 0) {
    return `the router still gives the canary ${weight}%; it must carry no traffic first`;
  }
  if (op.kind === 'deployStable' && weight !== 100) {
    return `the router gives the stable side ${100 - weight}%; it must carry no traffic while it changes`;
  }
  return undefined;
}

/** Performs one call of the release's operation and says what came of it, as an engine event. */
export async function runOperation(
  release: Release,
  target: ReleaseTarget,
  context: ReleaseTargetContext,
): Promise<EngineEvent> {
  const op = release.operation!;
  const deployer = target.deployer;
  if (!deployer) return { type: 'operation', error: `target '${target.name}' has no deployer` };
  try {
    const guard = trafficGuard(release, await target.trafficRouter.getCanaryWeight(context));
    if (guard) return { type: 'operation', error: guard };
    const status =
      op.kind === 'scaleDownCanary'
        ? await bounded(deployer.scaleDownCanary(context), 'the deployer')
        : await bounded(deployer.ensure(context, op.kind === 'deployCanary' ? 'canary' : 'stable', op.version!), 'the deployer');
    return { type: 'operation', status };
  } catch (error) {
    return { type: 'operation', error: errorText(error) };
  }
}
