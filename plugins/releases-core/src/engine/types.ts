import {
  isActiveRelease,
  Release,
  ReleaseAction,
  ReleaseSides,
  ReleaseState,
  RELEASE_TRANSITIONS,
  StoredSample,
  TimelineEventType,
  TrafficStats,
  HistoryBucket,
  GateTick,
} from '@release-pilot/plugin-releases-common';
import { ReleaseAnalysis, TickInput } from './analysis';
import { InvalidTransitionError } from './errors';

/** What a deployer call reported, as the engine hears it. */
export interface OperationStatus {
  done: boolean;
  progress: string;
  sides: Omit<ReleaseSides, 'at'>;
}

/** What can happen to a release. */
export type EngineEvent =
  /** The driver starts a pending release, with what the router and the deployer read back first. */
  | { type: 'start'; canaryWeight?: number; sides?: Omit<ReleaseSides, 'at'> }
  /**
   * A tick's sample of a running, paused or watched release, with the samples stored since
   * `analysisWindowStart` (and, on the watch's first tick, the service's history): the engine
   * measures it with the release's analysis and applies the analysis limits.
   */
  | ({ type: 'tick' } & TickInput)
  | { type: 'user'; action: ReleaseAction; actor: string; reason?: string }
  | { type: 'providerError'; error: string }
  /** A weight the engine asked for with `report` was set on the router, or the router refused it. */
  | { type: 'weightApplied'; weight: number; error?: string }
  /** Time passed without anything else to report (a rollback the router refused is retried with backoff). */
  | { type: 'timer' }
  /**
   * One call of the deployer for the release's operation: its status, or its error. Neither: the
   * operation waits for a pipeline's confirmation (the `none` deployer) and only its timeout counts.
   */
  | { type: 'operation'; status?: OperationStatus; error?: string }
  /** A pipeline confirms a side runs a version (the `none` deployer; `POST /releases/:id/deployed`). */
  | { type: 'deployConfirmed'; side: 'canary' | 'stable'; version: string; actor: string }
  /**
   * After a rollback: the whole service since its traffic was restored (`window`, none when the
   * provider did not answer), and, until the release has its yardstick, the service's history
   * before the release and the samples stored before the rollback decision.
   */
  | { type: 'recoveryCheck'; window?: TrafficStats; windowSeconds: number; history?: HistoryBucket[]; before?: StoredSample[] }
  /** The resilience gate: what the canary and the stable instance answered to the synthetic load over `seconds`. */
  | { type: 'gateTick'; canary: GateTick; stable: GateTick; seconds: number }
  /** The resilience gate's fault injector or load failed: the running experiment is inconclusive. */
  | { type: 'gateError'; error: string };

/**
 * What the driver must do for the engine; the engine itself does no I/O. A weight with `report`
 * is set before the new state is saved (a rollback's weight 0: the fast path), and its outcome comes
 * back as a `weightApplied` event. `operate` runs the release's persisted `operation` through the
 * deployer now (the driver also runs it on every tick); its outcome comes back as an `operation` event.
 * `endGate` clears the resilience gate's fault and load.
 */
export type EngineAction =
  | { type: 'setCanaryWeight'; weight: number; report?: true }
  | { type: 'operate' }
  /** The resilience gate is over (passed, failed, paused or rolled back): its fault and load come off both instances. */
  | { type: 'endGate' };

/** A timeline entry the driver records. */
export interface EngineRecord {
  type: TimelineEventType;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

/** The outcome of one event: the next release state, the actions to perform and what to record. */
export interface EngineResult {
  release: Release;
  actions: EngineAction[];
  records: EngineRecord[];
}

/** Limits of the engine and the release's analysis, with defaults in `DEFAULT_ENGINE_OPTIONS`. */
export interface EngineOptions {
  /** Provider errors in a row after which a running release rolls back, unless the analysis sets `consecutiveErrorLimit`. */
  maxConsecutiveProviderErrors: number;
  /** Seconds a deploy, promotion or scale-down may take (default 600, the target may set its own). */
  deployTimeoutSeconds?: number;
  /** Seconds after the canary's traffic went to 0 % within which the service must be back at its pre-release level (default 120). */
  recoverySeconds?: number;
  /** What judges the release's ticks (default: the sequential judge, the watch, no failure tolerated). */
  analysis?: ReleaseAnalysis;
}

/** Default engine limits. */
export const DEFAULT_ENGINE_OPTIONS: Required<Omit<EngineOptions, 'analysis'>> = {
  // At the default 5 s tick, five minutes of holding (and telling the owners) before a rollback;
  // Flagger and Argo Rollouts abort within a minute of a provider outage.
  maxConsecutiveProviderErrors: 60,
  // Kubernetes' own progressDeadlineSeconds default.
  deployTimeoutSeconds: 600,
  recoverySeconds: 120,
};

export const ENGINE_ACTOR = 'release-pilot';

export function transition(release: Release, to: ReleaseState, now: Date, what: string): Release {
  if (!RELEASE_TRANSITIONS[release.state].includes(to)) {
    throw new InvalidTransitionError(release.state, what);
  }
  const terminal = !isActiveRelease(to);
  return {
    ...release,
    state: to,
    updatedAt: now.toISOString(),
    finishedAt: terminal ? now.toISOString() : release.finishedAt,
  };
}

export function formatWeight(weight: number): string {
  return `${weight}%`;
}

/** Nothing changes. */
export function unchanged(release: Release): EngineResult {
  return { release, actions: [], records: [] };
}

export function enterStep(release: Release, stepIndex: number, now: Date): Release {
  return {
    ...release,
    currentStep: stepIndex,
    stepStartedAt: now.toISOString(),
    stepCanaryRequests: 0,
    canaryWeight: release.plan.steps[stepIndex].weight,
  };
}

/** Whether Release Pilot deploys the sides of this release (through a deployer or a pipeline's confirmation). */
export function managesSides(release: Release): boolean {
  return release.deployMode === 'deployer' || release.deployMode === 'confirm';
}
