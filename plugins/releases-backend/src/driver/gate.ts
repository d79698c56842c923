import { Release } from '@release-pilot/plugin-releases-common';
import { activeFault, EngineEvent } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { errorText } from './errorText';

/** Seconds a fault outlives its experiment's planned end before its injector removes it by itself. */
export const FAULT_TTL_SLACK_SECONDS = 30;

/**
 * A tick of a release in its resilience gate: the fault its persisted state asks for goes on (or
 * off) both instances, idempotently, then both sides' answers to the synthetic load since the last
 * tick go to the engine. An injector or load error makes the running experiment inconclusive.
 */
export async function gateEvent(release: Release, target: ReleaseTarget, context: ReleaseTargetContext): Promise<EngineEvent> {
  const parts = target.resilience;
  if (!parts) return { type: 'gateError', error: `target '${release.target}' has no fault injector for the resilience gate` };
  const gate = release.resilience!;
  const experiment = activeFault(gate);
  try {
    if (experiment) {
      // Never a fault on an instance that takes production traffic: the router must hold the canary at 0 %.
      const weight = await target.trafficRouter.getCanaryWeight(context);
      if (weight > 0) throw new Error(`the canary takes ${weight} % of production traffic; no fault goes on an instance that serves users`);
      const remaining = experiment.durationSeconds - gate.experiments[gate.index].phaseSeconds;
      await parts.injector.inject(context, { id: `${release.id}/${gate.index}`, experiment, ttlSeconds: Math.ceil(Math.max(remaining, 0) + FAULT_TTL_SLACK_SECONDS) });
    } else {
      await parts.injector.clear(context);
    }
  } catch (error) {
    await parts.injector.clear(context).catch(() => undefined);
    return { type: 'gateError', error: `the fault injector failed: ${errorText(error)}` };
  }
  try {
    const answers = await parts.load.read(context);
    return { type: 'gateTick', ...answers };
  } catch (error) {
    return { type: 'gateError', error: `the synthetic load failed: ${errorText(error)}` };
  }
}

/** After the gate (passed, failed, paused or rolled back): no fault and no load left behind. Idempotent. */
export async function clearGate(target: ReleaseTarget, context: ReleaseTargetContext): Promise<void> {
  if (!target.resilience) return;
  await Promise.all([target.resilience.injector.clear(context), target.resilience.load.stop(context)]);
}
