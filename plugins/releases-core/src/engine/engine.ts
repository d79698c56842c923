import { ReleaseAction, Release, ReleaseState, stepProgress, Verdict, watchProgress } from '@release-pilot/plugin-releases-common';
import { countMeasurement, DEFAULT_ANALYSIS, LimitDecision, measure, TickInput } from './analysis';
import { ConflictError } from '@backstage/errors';
import { InvalidTransitionError } from './errors';
import { beginDeploy, finishRelease, onDeployConfirmed, onOperation } from './lifecycle';
import { onRecoveryCheck, onRollbackApplied, onRollbackRefused, retryRollback, startRollback } from './rollback';
import { enterGateOrFirstStep, onGateError, onGateTick, pausedInGate, resumeGate } from './resilienceGate';
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
export { analysisWindowStart, isWarmingUp, watchNeedsHistory } from './analysis';
export type { AnalysisLimits, ReleaseAnalysis, TickInput } from './analysis';

/** Which user action is allowed from which state. */
const USER_ACTION_SOURCES: Record<ReleaseAction, readonly ReleaseState[]> = {
  pause: ['running'],
  resume: ['paused'],
  // Promoting a watched release ends its watch early.
  promote: ['running', 'paused', 'watching'],
  // A succeeded release can be rolled back to the previous version (the service checks it is the entity's latest).
  rollback: ['pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting', 'succeeded'],
};

function stepIsDone(release: Release, now: Date): boolean {
  return stepProgress(release, now) >= 1;
}

/** After the last step: watch the service against its own history, or succeed when the plan has no watch. */
function finishSteps(release: Release, now: Date, options: EngineOptions): EngineResult {
  const watchSeconds = release.plan.watchSeconds ?? 0;
  if (watchSeconds <= 0) return finishRelease(release, now, ENGINE_ACTOR, options);
  return {
    release: {
      ...transition(release, 'watching', now, 'watch'),
      watchStartedAt: now.toISOString(),
      // The watch judges the service against its history, not the canary judge's statistics, and
      // its measurements count afresh against the limits.
      judgeState: undefined,
      judgeStateAt: undefined,
      measurements: undefined,
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

/** A tolerated failed measurement: recorded, and nothing advances on it. */
function tolerated(release: Release, verdict: Verdict, actor: string, note: string): EngineResult {
  return {
    release,
    actions: [],
    records: [{ type: 'measurement_failed', actor, message: `Failed measurement tolerated (${note}): ${verdict.summary}` }],
  };
}

/** A tick of the post-release watch: a fail rolls back, a warn alerts once, the end of the watch succeeds. */
function onWatchTick(release: Release, verdict: Verdict, limit: { decision: LimitDecision; note?: string }, now: Date, options: EngineOptions): EngineResult {
  if (limit.decision === 'rollback') {
    return startRollback(release, now, 'watch', `post-release watch: ${verdict.summary}${limit.note ?? ''}`, options);
  }
  if (limit.decision === 'tolerated') return tolerated(release, verdict, 'watch', limit.note!);
  const alert = verdict.outcome === 'warn' ? verdict.summary : limit.decision === 'inconclusiveLimit' && `${limit.note}: ${verdict.summary}`;
  if (alert && release.reason === undefined) {
    return {
      release: { ...release, reason: `Watch alert: ${alert}` },
      actions: [],
      records: [{ type: 'watch_alert', actor: 'watch', message: `Alerting the owners: ${alert}` }],
    };
  }
  if (watchProgress(release, now) >= 1) {
    return finishRelease(release, now, ENGINE_ACTOR, options);
  }
  return { release, actions: [], records: [] };
}

/**
 * A tick: the sample is measured with the release's analysis (not while the canary warms up), the
 * measurement is counted against the analysis limits, and the outcome decides: roll back, hold,
 * pause for a person, or advance once the step has its duration and its requests.
 */
function onTick(release: Release, input: TickInput, now: Date, options: EngineOptions): EngineResult {
  const analysis = options.analysis ?? DEFAULT_ANALYSIS;
  const { verdict, state, judged } = measure(release, input, now, analysis);
  const measured: Release = { ...release, latestVerdict: verdict, judgeState: state, consecutiveProviderErrors: 0 };
  // A warming canary's requests count for nothing and its metrics decide nothing.
  if (!judged) return { release: measured, actions: [], records: [] };
  const limit = countMeasurement(release.measurements, verdict, analysis.limits);
  const counted: Release = {
    ...measured,
    stepCanaryRequests: release.stepCanaryRequests + input.sample.canary.requests,
    measurements: limit.counts,
  };
  if (release.state === 'watching') return onWatchTick(counted, verdict, limit, now, options);
  if (limit.decision === 'rollback') return startRollback(counted, now, 'judge', `${verdict.summary}${limit.note ?? ''}`, options);
  if (limit.decision === 'tolerated') return tolerated(counted, verdict, 'judge', limit.note!);
  if (release.state === 'paused') {
    // A paused canary keeps its traffic, so only a failure changes anything.
    return { release: counted, actions: [], records: [] };
  }
  const pauseFor = verdict.outcome === 'warn' ? verdict.summary : limit.decision === 'inconclusiveLimit' && `${limit.note}: ${verdict.summary}`;
  if (pauseFor) {
    return {
      release: { ...transition(counted, 'paused', now, 'pause'), reason: pauseFor },
      actions: [],
      records: [{ type: 'paused', actor: 'judge', message: `Paused for a person to decide: ${pauseFor}` }],
    };
  }
  if (stepIsDone(counted, now)) {
    return advance(counted, now, options);
  }
  return { release: counted, actions: [], records: [] };
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
  // Paused by an inconclusive resilience gate: resuming runs the experiment again; nothing skips it.
  if (pausedInGate(release) && action === 'resume') return resumeGate(release, actor, reason, now);
  if (pausedInGate(release) && action === 'promote') {
    throw new ConflictError('Cannot promote a release its resilience gate paused: resume to run the experiment again, or roll back');
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
      // A person who resumes starts the inconclusive count afresh (Argo Rollouts starts a new analysis run).
      const resumed = {
        ...transition(release, 'running', now, 'resume'),
        measurements: release.measurements && { ...release.measurements, inconclusive: 0 },
      };
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
      return managesSides(release) ? beginDeploy(release, event, now, options) : enterGateOrFirstStep(release, now);
    }
    case 'tick':
      if (release.state !== 'running' && release.state !== 'paused' && release.state !== 'watching') {
        throw new InvalidTransitionError(release.state, 'analyse');
      }
      return onTick(release, event, now, options);
    case 'user':
      return onUserAction(release, event.action, event.actor, event.reason, now, options);
    case 'providerError': {
      if (release.state !== 'running' && release.state !== 'paused' && release.state !== 'watching') {
        throw new InvalidTransitionError(release.state, 'analyse');
      }
      const errors = release.consecutiveProviderErrors + 1;
      const counted = { ...release, consecutiveProviderErrors: errors };
      const limit = (options.analysis ?? DEFAULT_ANALYSIS).limits.consecutiveErrorLimit ?? options.maxConsecutiveProviderErrors;
      const record: EngineRecord = {
        type: 'provider_error',
        actor: ENGINE_ACTOR,
        message: `Provider error ${errors} of ${limit}: ${event.error}`,
      };
      if (errors >= limit) {
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
    case 'weightApplied':
      return event.error === undefined ? onRollbackApplied(release, event.weight, now, options) : onRollbackRefused(release, event.weight, event.error, now);
    case 'timer':
      return retryRollback(release, now);
    case 'operation':
      return onOperation(release, event, now, options);
    case 'deployConfirmed':
      return onDeployConfirmed(release, event, now, options);
    case 'recoveryCheck':
      return onRecoveryCheck(release, event, now, options);
    case 'gateTick':
      return onGateTick(release, event, now, options);
    case 'gateError':
      return onGateError(release, event.error, now);
    default:
      throw new Error(`Unknown engine event ${(event as EngineEvent).type}`);
  }
}
