import { Release, ReleaseOperation } from '@release-pilot/plugin-releases-common';
import { InvalidTransitionError } from './errors';
import {
  DEFAULT_ENGINE_OPTIONS,
  ENGINE_ACTOR,
  EngineAction,
  EngineEvent,
  EngineOptions,
  EngineRecord,
  EngineResult,
  enterStep,
  formatWeight,
  managesSides,
  OperationStatus,
  transition,
  unchanged,
} from './types';
import { enterGateOrFirstStep } from './resilienceGate';
import { startRollback } from './rollback';

/**
 * The release's lifecycle around its steps: deploying the canary at 0 % before any traffic,
 * promoting the stable side after the last step, and a rollback that restores the stable side,
 * scales the canary down and verifies the service recovered. Each deployer operation is persisted
 * on the release (`operation`) before the driver performs it, and its outcome comes back as an event.
 */

export function operation(kind: ReleaseOperation['kind'], version: string | undefined, now: Date, options: EngineOptions): ReleaseOperation {
  return {
    kind,
    version,
    startedAt: now.toISOString(),
    errors: 0,
    timeoutSeconds: options.deployTimeoutSeconds ?? DEFAULT_ENGINE_OPTIONS.deployTimeoutSeconds,
  };
}

export function seconds(from: string | undefined, now: Date): number {
  return from ? Math.max(0, (now.getTime() - Date.parse(from)) / 1000) : 0;
}

export const operate: EngineAction = { type: 'operate' };

/** The rollback's fast path: weight 0 before anything is written, its outcome reported back. */

/** Start of a release whose sides Release Pilot manages: the canary goes to 0 % and gets the version. */
export function beginDeploy(release: Release, event: Extract<EngineEvent, { type: 'start' }>, now: Date, options: EngineOptions): EngineResult {
  const sides = event.sides ? { ...event.sides, at: now.toISOString() } : release.sides;
  const stable = event.sides?.stable;
  const records: EngineRecord[] = [];
  if ((event.canaryWeight ?? 0) > 0) {
    records.push({
      type: 'target_checked',
      actor: ENGINE_ACTOR,
      message: `The canary side had ${formatWeight(event.canaryWeight!)} of the traffic outside any release: set to 0% before deploying`,
      data: { canaryWeight: event.canaryWeight },
    });
  }
  if (stable && release.previousVersion && stable !== release.previousVersion) {
    records.push({
      type: 'target_checked',
      actor: ENGINE_ACTOR,
      message: `The stable side runs ${stable}, not ${release.previousVersion} that the entity's last succeeded release left; a rollback restores ${stable}`,
      data: { stable, expected: release.previousVersion },
    });
  }
  const confirm = release.deployMode === 'confirm';
  const next: Release = {
    ...transition(release, 'deploying', now, 'start'),
    canaryWeight: 0,
    currentStep: 0,
    stepCanaryRequests: 0,
    sides,
    previousVersion: stable ?? release.previousVersion,
    operation: operation('deployCanary', release.version, now, options),
  };
  records.push({
    type: 'deploy_started',
    actor: ENGINE_ACTOR,
    message: `Deploying ${release.version} to the canary side at 0%${confirm ? '; waiting for the pipeline to confirm it runs there' : ''}${next.previousVersion ? ` (stable runs ${next.previousVersion})` : ''}`,
    data: { side: 'canary', version: release.version },
  });
  if (confirm && release.sides?.canary === release.version) {
    // The pipeline deployed the canary before it asked (`start --deployed`): the steps begin now.
    const done = completeOperation(next, next.operation!, now, options);
    return { ...done, records: [...records, ...done.records] };
  }
  const actions: EngineAction[] = [{ type: 'setCanaryWeight', weight: 0 }];
  if (!confirm) actions.push(operate);
  return { release: next, actions, records };
}

/** The canary is ready and runs the version: the first step gives it traffic (after a warm-up, if the plan has one). */
export function enterFirstStep(release: Release, now: Date): EngineResult {
  const warmUpSeconds = release.plan.warmUpSeconds ?? 0;
  const started: Release = {
    ...enterStep(transition(release, 'running', now, 'start'), 0, now),
    operation: undefined,
    warmUpUntil: warmUpSeconds > 0 ? new Date(now.getTime() + warmUpSeconds * 1000).toISOString() : undefined,
  };
  const warmUp = warmUpSeconds > 0 ? `; its first ${warmUpSeconds} s are a warm-up, not judged` : '';
  return {
    release: started,
    actions: [{ type: 'setCanaryWeight', weight: started.canaryWeight }],
    records: [
      {
        type: 'started',
        actor: ENGINE_ACTOR,
        message: `Started release of ${release.version}: canary weight ${formatWeight(started.canaryWeight)} (step 1 of ${release.plan.steps.length})${warmUp}`,
        data: { step: 0, weight: started.canaryWeight },
      },
    ],
  };
}

function succeed(release: Release, now: Date, actor: string, message: string): EngineResult {
  return {
    release: { ...transition(release, 'succeeded', now, 'complete'), reason: undefined, operation: undefined },
    actions: [],
    records: [{ type: 'succeeded', actor, message }],
  };
}

/**
 * All steps (and the watch) passed. Managed sides are promoted: the canary serves 100 % while the
 * stable side gets the version, then traffic goes back to stable and the canary is scaled down.
 * Unmanaged targets end with the canary serving the release's last weight.
 */
export function finishRelease(release: Release, now: Date, actor: string, options: EngineOptions): EngineResult {
  if (!managesSides(release)) {
    return succeed(release, now, actor, `Release of ${release.version} succeeded at canary weight ${formatWeight(release.canaryWeight)}`);
  }
  const next: Release = {
    ...transition(release, 'promoting', now, 'promote'),
    canaryWeight: 100,
    reason: undefined,
    operation: operation('deployStable', release.version, now, options),
  };
  const actions: EngineAction[] = release.canaryWeight === 100 ? [] : [{ type: 'setCanaryWeight', weight: 100 }];
  if (release.deployMode === 'deployer') actions.push(operate);
  return {
    release: next,
    actions,
    records: [
      {
        type: 'promotion_started',
        actor,
        message: `Promoting ${release.version}: the stable side gets it while the canary serves 100%${release.deployMode === 'confirm' ? '; waiting for the pipeline to confirm the stable side runs it' : ''}`,
        data: { side: 'stable', version: release.version },
      },
    ],
  };
}

/** The canary's traffic is at 0 % and stable runs the right version: scale the canary down (where Release Pilot deploys). */
export function scaleDownOrFinish(release: Release, now: Date, options: EngineOptions, records: EngineRecord[], actions: EngineAction[]): EngineResult {
  if (release.deployMode === 'deployer') {
    return { release: { ...release, operation: operation('scaleDownCanary', undefined, now, options) }, actions: [...actions, operate], records };
  }
  const next = { ...release, operation: undefined };
  const done = afterScaleDown(next, now);
  return { ...done, actions: [...actions, ...done.actions], records: [...records, ...done.records] };
}

function afterScaleDown(release: Release, now: Date): EngineResult {
  if (release.state === 'promoting') {
    return succeed(release, now, ENGINE_ACTOR, `Release of ${release.version} succeeded: the stable side runs it at 100%`);
  }
  if (release.recovery?.status === 'verifying') return unchanged(release);
  return rolledBack(release, now);
}

export function rolledBack(release: Release, now: Date): EngineResult {
  const restored = release.sides?.stable ?? release.previousVersion;
  return {
    release: {
      ...transition(release, 'rolled_back', now, 'finish rolling back'),
      operation: undefined,
      consecutiveProviderErrors: 0,
      routerErrorSince: undefined,
      routerError: undefined,
    },
    actions: [],
    records: [
      {
        type: 'rolled_back',
        actor: ENGINE_ACTOR,
        message: `Rolled back: canary weight 0%${managesSides(release) && restored ? `, stable runs ${restored}` : ''}. Reason: ${release.reason ?? 'unknown'}`,
      },
    ],
  };
}

/** An operation finished: the next part of the lifecycle. */
function completeOperation(release: Release, op: ReleaseOperation, now: Date, options: EngineOptions): EngineResult {
  const took = seconds(op.startedAt, now);
  const done = { ...release, operation: undefined };
  switch (op.kind) {
    case 'deployCanary': {
      if (release.state === 'rolling_back') {
        // Restoring after a success: the canary, deployed with the previous version at 0 %, takes
        // the traffic while the stable side gets that version back, so nobody is served by a side that changes.
        return {
          release: { ...done, canaryWeight: 100, operation: operation('deployStable', op.version, now, options) },
          actions: release.deployMode === 'deployer' ? [{ type: 'setCanaryWeight', weight: 100 }, operate] : [{ type: 'setCanaryWeight', weight: 100 }],
          records: [
            { type: 'canary_deployed', actor: ENGINE_ACTOR, message: `The canary side runs ${op.version} again and is ready (${took.toFixed(1)} s); it serves 100% while the stable side gets ${op.version} back`, data: { side: 'canary', version: op.version, seconds: took } },
          ],
        };
      }
      const entered = enterGateOrFirstStep(done, now);
      const record: EngineRecord = {
        type: 'canary_deployed',
        actor: ENGINE_ACTOR,
        message: `The canary side runs ${op.version} and is ready, ${took.toFixed(1)} s after the deploy started`,
        data: { side: 'canary', version: op.version, seconds: took },
      };
      return { ...entered, records: [record, ...entered.records] };
    }
    case 'deployStable': {
      const restoring = release.state === 'rolling_back';
      const record: EngineRecord = {
        type: 'stable_deployed',
        actor: ENGINE_ACTOR,
        message: `The stable side runs ${op.version} and is ready, ${took.toFixed(1)} s after ${restoring ? 'the restore' : 'the promotion'} started; traffic back to stable at 100%`,
        data: { side: 'stable', version: op.version, seconds: took },
      };
      const records = [record];
      let next: Release = { ...done, canaryWeight: 0 };
      if (restoring && next.recovery && !next.recovery.restoredAt) {
        next = { ...next, recovery: { ...next.recovery, restoredAt: now.toISOString() } };
        records.push({ type: 'traffic_restored', actor: ENGINE_ACTOR, message: `All traffic on the stable side, which runs ${op.version} again` });
      }
      return scaleDownOrFinish(next, now, options, records, [{ type: 'setCanaryWeight', weight: 0 }]);
    }
    case 'scaleDownCanary': {
      const record: EngineRecord = { type: 'canary_scaled_down', actor: ENGINE_ACTOR, message: `The canary side is scaled down (${took.toFixed(1)} s)`, data: { seconds: took } };
      const after = afterScaleDown(done, now);
      return { ...after, records: [record, ...after.records] };
    }
    default:
      throw new Error(`Unknown operation ${(op as ReleaseOperation).kind}`);
  }
}

/** What a side must run at the end of an operation, checked against the deployer's read-back. */
function mismatch(op: ReleaseOperation, status: OperationStatus): string | undefined {
  if (op.kind === 'scaleDownCanary') return status.sides.canaryUp === true ? 'the canary side still runs instances' : undefined;
  const side = op.kind === 'deployCanary' ? 'canary' : 'stable';
  const actual = status.sides[side];
  return actual !== undefined && actual !== op.version ? `the ${side} side reports ${actual}, not ${op.version}` : undefined;
}

/** One deployer call's outcome, or a tick spent waiting for a pipeline's confirmation. */
export function onOperation(release: Release, event: Extract<EngineEvent, { type: 'operation' }>, now: Date, options: EngineOptions): EngineResult {
  const op = release.operation;
  if (!op) throw new InvalidTransitionError(release.state, 'deploy for');
  // A deployer may read back only the side it changed: what it says replaces what was known of that side.
  const sides = event.status ? { ...release.sides, ...event.status.sides, at: now.toISOString() } : release.sides;
  const wrong = event.status?.done ? mismatch(op, event.status) : undefined;
  if (event.status?.done && !wrong) return completeOperation({ ...release, sides }, op, now, options);
  const error = event.error ?? wrong;
  const records: EngineRecord[] = [];
  let next: Release = { ...release, sides };
  if (error !== undefined) {
    next = { ...next, operation: { ...op, errors: op.errors + 1, lastError: error } };
    if (op.errors === 0) {
      records.push({ type: 'deploy_error', actor: ENGINE_ACTOR, message: `${describe(op)} failed: ${error}; retrying`, data: { error } });
    }
  } else if (event.status && event.status.progress !== op.progress) {
    next = { ...next, operation: { ...op, errors: 0, lastError: undefined, progress: event.status.progress } };
  }
  const elapsed = seconds(op.startedAt, now);
  if (elapsed <= op.timeoutSeconds) {
    return next === release && !event.status ? unchanged(release) : { release: next, actions: [], records };
  }
  const lastWord = error ?? op.lastError;
  let detail = op.progress ? ` (${op.progress})` : '';
  if (lastWord) detail = `: ${lastWord}`;
  const why = `${describe(op)} did not finish within ${op.timeoutSeconds} s${detail}`;
  if (release.state === 'deploying') {
    // The canary never had traffic: the release ends without it.
    const rollback = startRollback(next, now, ENGINE_ACTOR, why, options);
    return { ...rollback, records: [...records, ...rollback.records] };
  }
  // Promoting and rolling back are never given up (the canary or the restored stable side carries
  // the traffic meanwhile): the owners hear once that it is overdue.
  if (op.overdue) return { release: next, actions: [], records };
  return {
    release: { ...next, operation: { ...next.operation!, overdue: true } },
    actions: [],
    records: [...records, { type: 'deploy_error', actor: ENGINE_ACTOR, message: `${why}; still trying`, data: { overdue: true } }],
  };
}

/** The side a deploy operation changes (none for a scale-down). */
export function operationSide(op: ReleaseOperation | undefined): 'canary' | 'stable' | undefined {
  if (op?.kind === 'deployCanary') return 'canary';
  if (op?.kind === 'deployStable') return 'stable';
  return undefined;
}

function describe(op: ReleaseOperation): string {
  if (op.kind === 'deployCanary') return `Deploying ${op.version} to the canary side`;
  if (op.kind === 'deployStable') return `Deploying ${op.version} to the stable side`;
  return 'Scaling the canary side down';
}

/** A pipeline says a side runs a version (the `none` deployer). */
export function onDeployConfirmed(release: Release, event: Extract<EngineEvent, { type: 'deployConfirmed' }>, now: Date, options: EngineOptions): EngineResult {
  const op = release.operation;
  const wanted = operationSide(op);
  if (release.deployMode !== 'confirm' || !op || wanted !== event.side) {
    throw new InvalidTransitionError(release.state, `confirm the ${event.side} side for`);
  }
  if (event.version !== op.version) {
    throw new InvalidTransitionError(release.state, `confirm version ${event.version} (the ${event.side} side must run ${op.version}) for`);
  }
  const sides = { ...release.sides, [event.side]: event.version };
  const result = completeOperation({ ...release, sides, operation: op }, op, now, options);
  // The first record says the side is deployed: the pipeline said so.
  const [first, ...rest] = result.records;
  return { ...result, records: [{ ...first, actor: event.actor, message: `${first.message} (confirmed by ${event.actor})` }, ...rest] };
}
