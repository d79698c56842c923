import { ReleasePlan } from './plans';
import { RegionRollout } from './regions';
import { GateState } from './resilience';
import { RiskAssessment } from './risk';
import { ReleaseState } from './states';
import { TimelineEvent } from './timeline';
import { DetectableEffect, TrafficStats, Verdict } from './metrics';

/**
 * How versions get onto a target's sides: `deployer` (Release Pilot deploys), `confirm` (the
 * pipeline deploys and confirms each side through the API), `unmanaged` (no deployer: the canary
 * is assumed to run the version at the start and serves 100 % after success).
 */
export type ReleaseDeployMode = 'deployer' | 'confirm' | 'unmanaged';

/** What each side of the target runs, from the deployer's last read-back. */
export interface ReleaseSides {
  stable?: string;
  canary?: string;
  /** False once the canary side is scaled down. */
  canaryUp?: boolean;
  /** When it was read. */
  at?: string;
}

/** A deployer operation the release waits on (the persisted intent: any replica carries it on after a crash). */
export interface ReleaseOperation {
  kind: 'deployCanary' | 'deployStable' | 'scaleDownCanary';
  /** The version the side must run (deploys). */
  version?: string;
  startedAt: string;
  /** The deployer's last word on it, e.g. "2 of 3 replicas updated". */
  progress?: string;
  /** Failed calls in a row, and the last one's error. */
  errors: number;
  lastError?: string;
  /** Seconds after `startedAt` past which it counts as failed (deploying) or overdue (promoting, rolling back). */
  timeoutSeconds: number;
  /** The overdue notice was recorded. */
  overdue?: boolean;
}

/**
 * A service's usual level, the recovery check's yardstick: [value, robust spread] per metric, from
 * the watch's model of the service's history at that time of day, or (without history) measured on
 * the stable side during the release.
 */
export interface ServiceLevel {
  source: 'history' | 'release';
  errorRate?: [number, number];
  p95LatencyMs?: [number, number];
  /** History buckets (`history`) or requests (`release`) it rests on. */
  basis: number;
  /** The history covered the daily pattern (else it is the recent level). */
  seasonal?: boolean;
}

/** After a rollback: whether the service came back to its pre-release level, and how fast. */
export interface ReleaseRecovery {
  /** `unverified`: nothing measured before the rollback to compare with (e.g. rolled back before any sample). */
  status: 'verifying' | 'recovered' | 'not_recovered' | 'unverified' | 'not_needed';
  /** When the rollback was decided; `seconds` counts from here. */
  decidedAt: string;
  /** When the canary's traffic went to 0 %. */
  restoredAt?: string;
  recoveredAt?: string;
  seconds?: number;
  /** E.g. "error rate 0.02% (usually 0.022% at this time of day), latency p95 141 ms (usually 145 ms at this time of day) over 3,012 requests". */
  summary?: string;
  /** The level the service had to come back to (fixed on the first check). */
  level?: ServiceLevel;
}

/** A release: one attempt to move an entity to a new version, step by step. */
export interface Release {
  id: string;
  entityRef: string;
  version: string;
  target: string;
  /** The named analysis (from `releases.analyses`) judging this release; the default judge when absent. */
  analysis?: string;
  state: ReleaseState;
  plan: ReleasePlan;
  /** Until when the canary warms up (`plan.warmUpSeconds` after the release started): its metrics are not judged. */
  warmUpUntil?: string;
  /** Index into `plan.steps` of the step the release is on (or ended on). */
  currentStep: number;
  stepStartedAt?: string;
  /** When the post-release watch began (state `watching` and after). */
  watchStartedAt?: string;
  /** The step waiting at a manual gate for a person to resume the release. */
  gateStep?: number;
  /** The gated step a person approved. */
  approvedStep?: number;
  /** The canary weight the release wants the router to hold (the persisted intent). */
  canaryWeight: number;
  /** Canary requests measured since the current step started. */
  stepCanaryRequests: number;
  /** Provider errors (metrics or router) in a row; the release rolls back past a limit. */
  consecutiveProviderErrors: number;
  /** Rolling back: since when the traffic router has refused weight 0 (the rollback is retried until it succeeds). */
  routerErrorSince?: string;
  /** Rolling back: the router's last error. */
  routerError?: string;
  /** Incremented on every change; guards against concurrent updates. */
  revision: number;
  createdBy: string;
  /** The entity's owner (a group, from the catalog) when the release was requested: who hears about it and whose figures it counts in. */
  owner?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Why the release paused, was rolled back or failed. */
  reason?: string;
  metadata: Record<string, unknown>;
  /** The risk predicted when the release was requested, and what it decided. */
  risk?: RiskAssessment;
  /** The entity's `release-pilot.io/*` annotations when the release was requested (its target's per-entity settings). */
  annotations?: Record<string, string>;
  latestVerdict?: Verdict;
  /** How versions get onto the target's sides (from the target when the release was requested; absent: unmanaged). */
  deployMode?: ReleaseDeployMode;
  /** The deployer operation under way: deploy the canary, promote (deploy the stable side), scale the canary down. */
  operation?: ReleaseOperation;
  /** What each side runs, from the deployer's read-back ("stable 2.0.0 · canary 2.1.0"). */
  sides?: ReleaseSides;
  /** The resilience gate (plans with `gate`): its experiments, where they stand and their evidence. */
  resilience?: GateState;
  /** The version the stable side ran before this release: what a rollback of its success puts back. */
  previousVersion?: string;
  /** After a rollback: the service back at its pre-release level, measured. */
  recovery?: ReleaseRecovery;
  /** Who decided the rollback (a person, `judge`, `watch` or `release-pilot`). */
  rollbackActor?: string;
  /** What the judge carries from tick to tick (sequential statistics); opaque outside the judge. */
  judgeState?: unknown;
  /**
   * Set only when the stored `judgeState` is older than `latestVerdict`: the tick it counted up to.
   * A replica saves the judge's state every few ticks, not on every one; the one that drives the
   * release next counts the stored samples since then again (`ReleaseDriver`) and drops this.
   */
  judgeStateAt?: string;
  /** Failed and inconclusive measurements so far, counted against the analysis limits (afresh for the watch). */
  measurements?: ReleaseMeasurements;
  /** A release across regions: its waves and every region's part (its regions' releases carry `parentId`). */
  rollout?: RegionRollout;
  /** A region's release: the release across regions it belongs to, and its region. */
  parentId?: string;
  region?: string;
}

/** Measurements counted against an analysis's `failureLimit` and `inconclusiveLimit`. */
export interface ReleaseMeasurements {
  failed: number;
  inconclusive: number;
}

/** When a step started and ended, for the charts' step boundaries. */
export interface StepRecord {
  index: number;
  weight: number;
  startedAt: string;
  endedAt?: string;
}

/** A stored sample with the verdict the judge gave at that tick. */
export interface StoredSample {
  at: string;
  stepIndex: number;
  canaryWeight: number;
  canary: TrafficStats;
  baseline: TrafficStats;
  verdict?: Verdict;
}

/** A release with everything the Releases tab shows. */
export interface ReleaseDetails extends Release {
  steps: StepRecord[];
  timeline: TimelineEvent[];
  samples: StoredSample[];
  /** A release across regions: each region's own release, in the order they started. */
  regionReleases?: Release[];
}

/** A page of releases, newest first. */
export interface ReleaseList {
  items: Release[];
  totalCount: number;
  offset: number;
  limit: number;
}

/** What a release request would do (`POST /risk/assess`): its risk, the plan it would run, and what that plan can detect at the service's traffic. */
export interface ReleasePreview {
  risk: RiskAssessment;
  plan: ReleasePlan;
  /** Only with the sequential judge and a metric provider that knows the service's traffic and error rate. */
  detectable?: DetectableEffect;
}
