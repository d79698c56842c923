import { Release } from '@release-pilot/plugin-releases-common';
import { recoveryLevel } from '../judges/recovery/recovery';
import { DEFAULT_ANALYSIS } from './analysis';
import { InvalidTransitionError } from './errors';
import {
  DEFAULT_ENGINE_OPTIONS,
  ENGINE_ACTOR,
  EngineAction,
  EngineEvent,
  EngineOptions,
  EngineRecord,
  EngineResult,
  managesSides,
  transition,
  unchanged,
} from './types';
import { operate, operation, rolledBack, scaleDownOrFinish, seconds } from './lifecycle';

const ROLLBACK_WEIGHT: EngineAction = { type: 'setCanaryWeight', weight: 0, report: true };

/**
 * The rollback: the canary's weight to 0 % at once (or the previous version back on the stable side
 * first, where it may already run the new one), retried with backoff while the router refuses, then
 * the canary scaled down and the service's recovery verified against its pre-release level.
 */

/**
 * A rollback. Where the stable side may already run the version (promoting, or a succeeded
 * release), the previous version goes back on it first, while the traffic stays where it is;
 * otherwise the canary goes to 0 % at once (the fast path) and is scaled down after.
 */
export function startRollback(release: Release, now: Date, actor: string, reason: string, options: EngineOptions): EngineResult {
  const managed = managesSides(release);
  const record: EngineRecord = { type: 'rollback_started', actor, message: `Rolling back: ${reason}`, data: { fromWeight: release.canaryWeight } };
  // A pending release touched nothing; a deploying one may have started the canary, which is scaled down.
  // Before its first step nothing served production traffic: not while deploying, nor in (or paused by) its resilience gate.
  const inGate = release.state === 'gating' || (release.resilience !== undefined && release.resilience.verdict !== 'passed');
  const servedTraffic = release.state !== 'pending' && release.state !== 'deploying' && !inGate;
  const recovery = managed && release.state !== 'pending'
    ? { status: servedTraffic ? ('verifying' as const) : ('not_needed' as const), decidedAt: now.toISOString() }
    : undefined;
  const stableMayRunIt = managed && (release.state === 'succeeded' || release.state === 'promoting');
  if (stableMayRunIt) {
    if (!release.previousVersion) {
      throw new InvalidTransitionError(release.state, `roll back (the version before ${release.version} is unknown, so nothing can be put back on the stable side)`);
    }
    // While the canary serves 100 % (promoting), the stable side gets the previous version back at
    // once. Where the stable side serves (succeeded, or a promotion past its switch back), the
    // previous version goes onto the canary at 0 % first and takes the traffic meanwhile.
    const kind = release.canaryWeight === 100 ? 'deployStable' : 'deployCanary';
    const next: Release = {
      ...transition(release, 'rolling_back', now, 'roll back'),
      reason,
      recovery,
      rollbackActor: actor,
      operation: operation(kind, release.previousVersion, now, options),
    };
    record.message += `; putting ${release.previousVersion} back on the stable side`;
    const actions: EngineAction[] = kind === 'deployCanary' ? [{ type: 'setCanaryWeight', weight: 0 }] : [];
    if (release.deployMode === 'deployer') actions.push(operate);
    return { release: { ...next, canaryWeight: kind === 'deployCanary' ? 0 : next.canaryWeight }, actions, records: [record] };
  }
  const next: Release = {
    ...transition(release, 'rolling_back', now, 'roll back'),
    canaryWeight: 0,
    reason,
    recovery,
    rollbackActor: actor,
    operation: undefined,
  };
  // Rolled back in its resilience gate: the fault and the load come off too.
  const endGate: EngineAction[] = release.state === 'gating' ? [{ type: 'endGate' }] : [];
  return { release: next, actions: [ROLLBACK_WEIGHT, ...endGate], records: [record] };
}

/** Whether the release waits for the router to take the rollback's weight 0. */
function awaitsRollbackWeight(release: Release): boolean {
  return release.state === 'rolling_back' && !release.operation && !release.recovery?.restoredAt;
}

/** The fast path's weight 0 is applied: unmanaged releases are rolled back; managed ones scale the canary down next. */
export function onRollbackApplied(release: Release, weight: number, now: Date, options: EngineOptions): EngineResult {
  if (!awaitsRollbackWeight(release) || weight !== 0) throw new InvalidTransitionError(release.state, 'finish rolling back');
  if (!managesSides(release) || !release.recovery) return rolledBack(release, now);
  const next = { ...release, recovery: { ...release.recovery, restoredAt: now.toISOString() }, consecutiveProviderErrors: 0, routerErrorSince: undefined, routerError: undefined };
  const restored = release.previousVersion ?? release.sides?.stable;
  const records: EngineRecord[] = [
    { type: 'traffic_restored', actor: ENGINE_ACTOR, message: `Canary weight 0%: all traffic on the stable side${restored ? `, which runs ${restored}` : ''}` },
  ];
  return scaleDownOrFinish(next, now, options, records, []);
}

/**
 * After the rollback: is the whole service back at its usual level, the watch's model of its own
 * history at this time of day (or, without history, the stable side's level during the release)?
 * Recovered ends the rollback and says how fast; past `recoverySeconds` it ends not recovered; with
 * nothing to compare with at all it ends unverified at once.
 */
export function onRecoveryCheck(release: Release, event: Extract<EngineEvent, { type: 'recoveryCheck' }>, now: Date, options: EngineOptions): EngineResult {
  const recovery = release.recovery;
  if (release.state !== 'rolling_back' || recovery?.status !== 'verifying' || !recovery.restoredAt || release.operation) {
    throw new InvalidTransitionError(release.state, 'verify the recovery of');
  }
  const took = seconds(recovery.decidedAt, now);
  const watch = (options.analysis ?? DEFAULT_ANALYSIS).watch;
  const level = event.window && (recovery.level ?? recoveryLevel(watch, { history: event.history, before: event.before, at: new Date(recovery.decidedAt) }));
  if (event.window && !level) {
    const summary = 'no history of the service and nothing measured before the rollback to compare with';
    const done = rolledBack({ ...release, recovery: { ...recovery, status: 'unverified', summary } }, now);
    return { ...done, records: [{ type: 'recovery_unverified', actor: ENGINE_ACTOR, message: `Recovery not verified: ${summary}` }, ...done.records] };
  }
  const verdict = event.window && level ? watch.atLevel(event.window, event.windowSeconds, level) : { recovered: false, summary: 'the metric provider did not answer' };
  const measured = { ...recovery, level: level || recovery.level };
  if (verdict.recovered) {
    const next = { ...release, recovery: { ...measured, status: 'recovered' as const, recoveredAt: now.toISOString(), seconds: took, summary: verdict.summary } };
    const done = rolledBack(next, now);
    return {
      ...done,
      records: [
        { type: 'recovered', actor: ENGINE_ACTOR, message: `Recovered ${took.toFixed(1)} s after the rollback decision: ${verdict.summary}`, data: { seconds: took } },
        ...done.records,
      ],
    };
  }
  const limit = options.recoverySeconds ?? DEFAULT_ENGINE_OPTIONS.recoverySeconds;
  if (seconds(recovery.restoredAt, now) <= limit) {
    return measured.level === recovery.level ? unchanged(release) : { release: { ...release, recovery: measured }, actions: [], records: [] };
  }
  const next = { ...release, recovery: { ...measured, status: 'not_recovered' as const, summary: verdict.summary } };
  const done = rolledBack(next, now);
  return {
    ...done,
    records: [
      { type: 'not_recovered', actor: ENGINE_ACTOR, message: `Not back at the pre-release level ${limit} s after the rollback: ${verdict.summary}`, data: { seconds: took } },
      ...done.records,
    ],
  };
}

/**
 * The router refused the rollback's weight 0. A rollback is never given up: it is asked again with
 * backoff (`retryRollback`) until the router takes it, and the release says since when it waits.
 */
export function onRollbackRefused(release: Release, weight: number, error: string, now: Date): EngineResult {
  if (!awaitsRollbackWeight(release) || weight !== 0) throw new InvalidTransitionError(release.state, 'fail rolling back');
  const errors = release.consecutiveProviderErrors + 1;
  const since = release.routerErrorSince ?? now.toISOString();
  return {
    release: { ...release, consecutiveProviderErrors: errors, routerErrorSince: since, routerError: error },
    actions: [],
    records: [
      errors === 1
        ? {
            type: 'rollback_pending',
            actor: ENGINE_ACTOR,
            message: `Rollback pending: the traffic router refused weight 0 (${error}); retrying until it succeeds`,
            data: { since },
          }
        : {
            type: 'provider_error',
            actor: ENGINE_ACTOR,
            message: `Setting canary weight 0 failed (attempt ${errors}, router unreachable since ${since}): ${error}`,
          },
    ],
  };
}

/** Seconds before a refused rollback is asked again: 1, 2, 4 ... 60. */
export function rollbackBackoffSeconds(release: Release): number {
  if (!release.routerErrorSince) return 0;
  return Math.min(60, 2 ** Math.min(Math.max(release.consecutiveProviderErrors - 1, 0), 6));
}

/** A tick of a rollback that waits for its weight 0: asked again once its backoff has passed. */
export function retryRollback(release: Release, now: Date): EngineResult {
  if (!awaitsRollbackWeight(release)) throw new InvalidTransitionError(release.state, 'retry the rollback of');
  const due = Date.parse(release.updatedAt) + rollbackBackoffSeconds(release) * 1000;
  return now.getTime() < due ? unchanged(release) : { release, actions: [ROLLBACK_WEIGHT], records: [] };
}
