import { ReleaseAction, Release, ReleaseState, Verdict } from '@release-pilot/plugin-releases-common';
import { InvalidTransitionError } from './errors';
import {
  beginDeploy,
  enterFirstStep,
  finishRelease,
  onDeployConfirmed,
  onOperation,
  onRecoveryCheck,
  onRollbackApplied,
  startRollback,
} from './lifecycle';
import {
  DEFAULT_ENGINE_OPTIONS,
  ENGINE_ACTOR,
  EngineEvent,
  EngineOptions,
  EngineRecord,
  EngineResult,
  enterStep,
  formatWeight,
  managesSides,
  transition,
} from './types';

export * from './types';

/** Which user action is allowed from which state. */
const USER_ACTION_SOURCES: Record<ReleaseAction, readonly ReleaseState[]> = {
  pause: ['running'],
  resume: ['paused'],
  // Promoting a watched release ends its watch early.
  promote: ['running', 'paused', 'watching'],
  // A succeeded release can be rolled back to the previous version (the service checks it is the entity's latest).
  rollback: ['pending', 'deploying', 'running', 'paused', 'watching', 'promoting', 'succeeded'],
};

/**
 * Whether a tick at `now` is in the release's warm-up: its sample, which ends at `now`, holds the
 * canary's first requests, so it is not judged and no step advances.
 */
export function isWarmingUp(release: Release, now: Date): boolean {
  return release.warmUpUntil !== undefined && now.getTime() <= Date.parse(release.warmUpUntil);
}

function stepIsDone(release: Release, now: Date): boolean {
  const step = release.plan.steps[release.currentStep];
  const startedAt = release.stepStartedAt
    ? new Date(release.stepStartedAt).getTime()
    : now.getTime();
  const elapsedSeconds = (now.getTime() - startedAt) / 1000;
  // A step that gave the canary traffic is never done without any canary request measured: no
  // promotion on missing data, whatever the plan's minimum.
  const minRequests = Math.max(step.minCanaryRequests, step.weight > 0 ? 1 : 0);
  return elapsedSeconds >= step.minDurationSeconds && release.stepCanaryRequests >= minRequests;
}

/** After the last step: watch the service against its own history, or succeed when the plan has no watch. */
function finishSteps(release: Release, now: Date, options: EngineOptions): EngineResult {
  const watchSeconds = release.plan.watchSeconds ?? 0;
  if (watchSeconds <= 0) return finishRelease(release, now, ENGINE_ACTOR, options);
  return {
    release: {
      ...transition(release, 'watching', now, 'watch'),
      watchStartedAt: now.toISOString(),
      // The watch judges the service against its history, not the canary judge's statistics.
      judgeState: undefined,
    },
    actions: [],
    records: [
      {
        type: 'watch_started',
        actor: ENGINE_ACTOR,
        message: `All steps passed; watching ${release.version} at ${formatWeight(release.canaryWeight)} against the service's own history for ${watchSeconds} s`,
        data: { seconds: watchSeconds },
      },
    ],
  };
}

/** A tick of the post-release watch: a fail rolls back, a warn alerts once, the end of the watch succeeds. */
function onWatchTick(release: Release, verdict: Verdict, now: Date, options: EngineOptions): EngineResult {
  if (verdict.outcome === 'fail') {
    return startRollback(release, now, 'watch', `post-release watch: ${verdict.summary}`, options);
  }
  if (verdict.outcome === 'warn' && release.reason === undefined) {
    return {
      release: { ...release, reason: `Watch alert: ${verdict.summary}` },
      actions: [],
      records: [{ type: 'watch_alert', actor: 'watch', message: `Alerting the owners: ${verdict.summary}` }],
    };
  }
  const startedAt = new Date(release.watchStartedAt ?? now.toISOString()).getTime();
  if ((now.getTime() - startedAt) / 1000 >= (release.plan.watchSeconds ?? 0)) {
    return finishRelease(release, now, ENGINE_ACTOR, options);
  }
  return { release, actions: [], records: [] };
}

function advance(release: Release, now: Date, options: EngineOptions): EngineResult {
  const isLastStep = release.currentStep >= release.plan.steps.length - 1;
  if (isLastStep) {
    return finishSteps(release, now, options);
  }
  const nextIndex = release.currentStep + 1;
  const gated = release.plan.steps[nextIndex];
  if (gated.approval && release.approvedStep !== nextIndex) {
    // A manual gate: hold the current weight until a person resumes (or promotes) the release.
    const message = `Manual gate before canary weight ${formatWeight(gated.weight)} (step ${nextIndex + 1} of ${release.plan.steps.length}): resume to continue`;
    return {
      release: { ...transition(release, 'paused', now, 'pause'), gateStep: nextIndex, reason: message },
      actions: [],
      records: [{ type: 'paused', actor: ENGINE_ACTOR, message, data: { gateStep: nextIndex } }],
    };
  }
  const next = enterStep(release, nextIndex, now);
  return {
    release: { ...next, updatedAt: now.toISOString() },
    actions: [{ type: 'setCanaryWeight', weight: next.canaryWeight }],
    records: [
      {
        type: 'step_advanced',
        actor: ENGINE_ACTOR,
        message: `Advance canary weight ${formatWeight(next.canaryWeight)} (step ${next.currentStep + 1} of ${release.plan.steps.length})`,
        data: { step: next.currentStep, weight: next.canaryWeight },
      },
    ],
  };
}

function onTick(
  release: Release,
  verdict: Verdict,
  canaryRequests: number,
  now: Date,
  options: EngineOptions,
): EngineResult {
  const counted: Release = {
    ...release,
    stepCanaryRequests: release.stepCanaryRequests + canaryRequests,
    consecutiveProviderErrors: 0,
  };
  if (release.state === 'watching') {
    return onWatchTick(counted, verdict, now, options);
  }
  if (isWarmingUp(release, now)) {
    // A warming canary's requests count for nothing and its verdicts decide nothing.
    return { release: { ...counted, stepCanaryRequests: release.stepCanaryRequests }, actions: [], records: [] };
  }
  if (verdict.outcome === 'fail') {
    return startRollback(counted, now, 'judge', verdict.summary, options);
  }
  if (release.state === 'paused') {
    // A paused canary keeps its traffic, so only a failure changes anything.
    return { release: counted, actions: [], records: [] };
  }
  if (verdict.outcome === 'warn') {
    return {
      release: {
        ...transition(counted, 'paused', now, 'pause'),
        reason: verdict.summary,
      },
      actions: [],
      records: [
        {
          type: 'paused',
          actor: 'judge',
          message: `Paused for a person to decide: ${verdict.summary}`,
        },
      ],
    };
  }
  if (stepIsDone(counted, now)) {
    return advance(counted, now, options);
  }
  return { release: counted, actions: [], records: [] };
}

function onUserAction(
  release: Release,
  action: ReleaseAction,
  actor: string,
  reason: string | undefined,
  now: Date,
  options: EngineOptions,
): EngineResult {
  if (!USER_ACTION_SOURCES[action].includes(release.state)) {
    throw new InvalidTransitionError(release.state, action);
  }
  switch (action) {
    case 'pause':
      return {
        release: {
          ...transition(release, 'paused', now, 'pause'),
          reason: reason ?? `Paused by ${actor}`,
        },
        actions: [],
        records: [
          { type: 'paused', actor, message: reason ? `Paused: ${reason}` : 'Paused' },
        ],
      };
    case 'resume': {
      const resumed = transition(release, 'running', now, 'resume');
      if (release.gateStep !== undefined) {
        // Resuming at a manual gate approves it: the release enters the gated step now.
        const approved = { ...resumed, approvedStep: release.gateStep, gateStep: undefined, reason: undefined };
        const entered = advance(approved, now, options);
        return {
          ...entered,
          records: [
            { type: 'resumed', actor, message: `Approved the manual gate${reason ? `: ${reason}` : ''}` },
            ...entered.records,
          ],
        };
      }
      return {
        // The step's clock restarts so the canary is watched afresh before it advances.
        release: { ...resumed, stepStartedAt: now.toISOString(), reason: undefined },
        actions: [],
        records: [
          { type: 'resumed', actor, message: reason ? `Resumed: ${reason}` : 'Resumed' },
        ],
      };
    }
    case 'promote': {
      if (release.state === 'watching') {
        const ended = finishRelease(release, now, actor, options);
        return {
          ...ended,
          records: [
            { type: 'promoted', actor, message: `Ended the watch early${reason ? `: ${reason}` : ''}` },
            ...ended.records,
          ],
        };
      }
      const lastStep = release.plan.steps.length - 1;
      const runningRelease =
        release.state === 'running' ? release : transition(release, 'running', now, 'promote');
      const promoted = {
        ...enterStep(runningRelease, lastStep, now),
        reason: undefined,
        gateStep: undefined,
        // A person who promotes has seen enough: the last step is judged at once.
        warmUpUntil: undefined,
      };
      return {
        release: promoted,
        actions: [{ type: 'setCanaryWeight', weight: promoted.canaryWeight }],
        records: [
          {
            type: 'promoted',
            actor,
            message: `Promoted to canary weight ${formatWeight(promoted.canaryWeight)}${reason ? `: ${reason}` : ''}`,
          },
        ],
      };
    }
    case 'rollback': {
      const requested = reason ? `requested by ${actor}: ${reason}` : `requested by ${actor}`;
      return startRollback(
        release,
        now,
        actor,
        release.state === 'succeeded' ? `back to the previous version, ${requested}` : requested,
        options,
      );
    }
    default:
      throw new InvalidTransitionError(release.state, action);
  }
}

/**
 * The release state machine: `(release, event, now) -> (next release, actions, records)`.
 * Pure: no I/O and no clock of its own, so the same code runs in production, tests and simulations.
 * Throws `InvalidTransitionError` for an event the current state does not allow.
 */
export function handleReleaseEvent(
  release: Release,
  event: EngineEvent,
  now: Date,
  options: EngineOptions = DEFAULT_ENGINE_OPTIONS,
): EngineResult {
  const result = dispatch(release, event, now, options);
  const changed = result.release !== release;
  return {
    ...result,
    release: changed
      ? {
          ...result.release,
          updatedAt: now.toISOString(),
          revision: release.revision + 1,
        }
      : release,
  };
}

function dispatch(
  release: Release,
  event: EngineEvent,
  now: Date,
  options: EngineOptions,
): EngineResult {
  switch (event.type) {
    case 'start': {
      if (release.state !== 'pending') throw new InvalidTransitionError(release.state, 'start');
      return managesSides(release) ? beginDeploy(release, event, now, options) : enterFirstStep(release, now);
    }
    case 'tick':
      if (release.state !== 'running' && release.state !== 'paused' && release.state !== 'watching') {
        throw new InvalidTransitionError(release.state, 'analyse');
      }
      return onTick(release, event.verdict, event.canaryRequests, now, options);
    case 'user':
      return onUserAction(release, event.action, event.actor, event.reason, now, options);
    case 'providerError': {
      if (release.state !== 'running' && release.state !== 'paused' && release.state !== 'watching') {
        throw new InvalidTransitionError(release.state, 'analyse');
      }
      const errors = release.consecutiveProviderErrors + 1;
      const counted = { ...release, consecutiveProviderErrors: errors };
      const record: EngineRecord = {
        type: 'provider_error',
        actor: ENGINE_ACTOR,
        message: `Provider error ${errors} of ${options.maxConsecutiveProviderErrors}: ${event.error}`,
      };
      if (errors >= options.maxConsecutiveProviderErrors) {
        const rollback = startRollback(
          counted,
          now,
          ENGINE_ACTOR,
          `${errors} provider errors in a row, last: ${event.error}`,
          options,
        );
        return { ...rollback, records: [record, ...rollback.records] };
      }
      return { release: counted, actions: [], records: [record] };
    }
    case 'rollbackApplied':
      return onRollbackApplied(release, now, options);
    case 'operation':
      return onOperation(release, event, now, options);
    case 'deployConfirmed':
      return onDeployConfirmed(release, event, now, options);
    case 'recoveryCheck':
      return onRecoveryCheck(release, event, now, options);
    case 'rollbackFailed': {
      if (release.state !== 'rolling_back') {
        throw new InvalidTransitionError(release.state, 'fail rolling back');
      }
      // A rollback is never given up: the driver retries with backoff until the router takes it,
      // and the release says plainly since when it has been waiting.
      const errors = release.consecutiveProviderErrors + 1;
      const since = release.routerErrorSince ?? now.toISOString();
      return {
        release: { ...release, consecutiveProviderErrors: errors, routerErrorSince: since, routerError: event.error },
        actions: [{ type: 'setCanaryWeight', weight: 0 }],
        records: [
          errors === 1
            ? {
                type: 'rollback_pending',
                actor: ENGINE_ACTOR,
                message: `Rollback pending: the traffic router refused weight 0 (${event.error}); retrying until it succeeds`,
                data: { since },
              }
            : {
                type: 'provider_error',
                actor: ENGINE_ACTOR,
                message: `Setting canary weight 0 failed (attempt ${errors}, router unreachable since ${since}): ${event.error}`,
              },
        ],
      };
    }
    default:
      throw new Error(`Unknown engine event ${(event as EngineEvent).type}`);
  }
}
