/** The states of a release. Transitions between them are explicit; see `RELEASE_TRANSITIONS`. */
export type ReleaseState =
  | 'pending'
  | 'deploying'
  | 'running'
  | 'paused'
  | 'watching'
  | 'promoting'
  | 'succeeded'
  | 'rolling_back'
  | 'rolled_back'
  | 'failed';

/** Every release state, in lifecycle order. */
export const RELEASE_STATES: readonly ReleaseState[] = [
  'pending',
  'deploying',
  'running',
  'paused',
  'watching',
  'promoting',
  'rolling_back',
  'succeeded',
  'rolled_back',
  'failed',
];

/** The allowed transitions of the release state machine; anything else is refused. */
export const RELEASE_TRANSITIONS: Readonly<
  Record<ReleaseState, readonly ReleaseState[]>
> = {
  // Deploying the canary side at 0 % (targets with a deployer), or straight to the steps (unmanaged).
  pending: ['deploying', 'running', 'rolling_back'],
  deploying: ['running', 'rolling_back'],
  // Promoting: the stable side gets the version, traffic goes back to it, the canary is scaled down.
  running: ['paused', 'watching', 'promoting', 'succeeded', 'rolling_back'],
  paused: ['running', 'promoting', 'succeeded', 'rolling_back'],
  watching: ['promoting', 'succeeded', 'rolling_back'],
  promoting: ['succeeded', 'rolling_back'],
  rolling_back: ['rolled_back', 'failed'],
  // A person may roll back the last release that succeeded: traffic goes back to the previous version.
  succeeded: ['rolling_back'],
  rolled_back: [],
  failed: [],
};

/** States in which a release still holds its entity (at most one per entity). */
export const ACTIVE_RELEASE_STATES: readonly ReleaseState[] = [
  'pending',
  'deploying',
  'running',
  'paused',
  'watching',
  'promoting',
  'rolling_back',
];

/** True while the release holds its entity and the driver still works on it. */
export function isActiveRelease(state: ReleaseState): boolean {
  return ACTIVE_RELEASE_STATES.includes(state);
}

/** One step of a plan: hold the canary at `weight` percent for at least the duration and the canary requests given. */
export interface PlanStep {
  /** A person must resume the release before it enters this step (a manual gate). */
  approval?: boolean;
  weight: number;
  minDurationSeconds: number;
  minCanaryRequests: number;
}

/** An ordered list of steps; the last step is normally 100 %. */
/**
 * How a plan moves traffic: `canary` (its own steps), `blueGreen` (a preview at weight 0 on the
 * router's test path, one switch to 100 %, a bake with the old version kept), `progressive`
 * (equal increments on a timer), `rolling` (one step per batch of instances).
 */
export type PlanStrategy = 'canary' | 'blueGreen' | 'progressive' | 'rolling';

export interface ReleasePlan {
  name: string;
  /** How the steps were made; absent means `canary`. */
  strategy?: PlanStrategy;
  steps: PlanStep[];
  /** After the last step, watch the service against its own history this long before the release succeeds (0: no watch). */
  watchSeconds?: number;
  /**
   * Seconds after the canary first takes traffic that are not judged (Kayenta's warm-up, Argo Rollouts'
   * `initialDelay`): a cold process's first requests are slow for a reason that passes. Nothing advances meanwhile.
   */
  warmUpSeconds?: number;
}

/**
 * A latency histogram with cumulative-free bucket counts, as Prometheus' `_bucket` series give them once
 * de-accumulated: `counts[i]` requests took at most `boundsMs[i]` and more than `boundsMs[i-1]`; the last
 * count is the overflow bucket (+Inf).
 */
export interface LatencyHistogram {
  boundsMs: number[];
  counts: number[];
}

/** Traffic statistics of one side (canary or baseline) over one interval. */
export interface TrafficStats {
  requests: number;
  errors: number;
  latency: LatencyHistogram;
  /** Events of named count metrics (orders placed, cache misses, ...), judged per request. */
  counters?: Record<string, number>;
}

/** The whole service's traffic in one bucket of its history, for the post-release watch. */
export interface HistoryBucket {
  from: string;
  to: string;
  stats: TrafficStats;
}

/** Canary and baseline statistics over one interval, as a metric provider reports them. */
export interface MetricSample {
  from: string;
  to: string;
  canary: TrafficStats;
  baseline: TrafficStats;
}

/** The closed set of judge outcomes. */
export type VerdictOutcome = 'pass' | 'warn' | 'fail' | 'inconclusive';

/** A named count metric's events per request, e.g. `counter:orders`. */
export type CounterMetricName = `counter:${string}`;

/** The metrics the judges compare: errors per request, the latency quantile, requests per second (post-release watch), counters. */
export type MetricName = 'errorRate' | 'p95LatencyMs' | 'requestRate' | CounterMetricName;

/** Why the judge decided what it decided for one metric. */
export interface MetricEvidence {
  metric: MetricName;
  outcome: VerdictOutcome;
  canary: number;
  baseline: number;
  canaryRequests: number;
  baselineRequests: number;
  /** The rule that decided, in words, e.g. "canary error rate > 1.5x baseline and >= 5 errors". */
  rule: string;
  /** Which way the metric gets worse (sequential judge and watch); default higher. */
  direction?: 'higher' | 'lower' | 'both';
  /** Sequential tests: the canary/baseline ratio of the tested rate over the release so far. */
  estimate?: number;
  /** Sequential tests: its anytime-valid lower confidence bound (the canary is at least this much worse). */
  lowerBound?: number;
  /** Sequential tests: the evidence against "no more than the tolerance worse" (an e-value; 1/alpha rejects). */
  eValue?: number;
  /** Latency (`p95LatencyMs`): the quantile judged when it is not 0.95 (0.99 for p99). */
  quantile?: number;
  /** Latency: the threshold (ms) above which a request counts as slow. */
  threshold?: number;
}

/** The judge's overall verdict for one tick, with evidence per metric. */
export interface Verdict {
  at: string;
  /** `watch`: the post-release watch compared the service with its own history ("baseline" is then the usual value). Default `canary`. */
  kind?: 'canary' | 'watch';
  outcome: VerdictOutcome;
  summary: string;
  evidence: MetricEvidence[];
}

/** Who or what caused a timeline event. */
export type TimelineEventType =
  | 'created'
  | 'started'
  | 'step_advanced'
  | 'paused'
  | 'resumed'
  | 'promoted'
  | 'succeeded'
  | 'rollback_started'
  | 'rolled_back'
  | 'rollback_pending'
  | 'failed'
  | 'weight_reconciled'
  | 'taken_over'
  | 'provider_error'
  | 'watch_started'
  | 'watch_alert'
  | 'measurement_failed'
  | 'risk_override'
  | 'plan_override'
  | 'deploy_started'
  | 'canary_deployed'
  | 'promotion_started'
  | 'stable_deployed'
  | 'canary_scaled_down'
  | 'deploy_error'
  | 'target_checked'
  | 'traffic_restored'
  | 'recovered'
  | 'not_recovered'
  | 'recovery_unverified';

/** An append-only record of what happened to a release: who, what, when and why. */
export interface TimelineEvent {
  id: number;
  releaseId: string;
  at: string;
  actor: string;
  type: TimelineEventType;
  message: string;
  data?: Record<string, unknown>;
}

/** One feature's push on a risk prediction, in words and numbers. */
export interface RiskReason {
  feature: string;
  /** E.g. "2,400 lines changed (usually 120)". */
  text: string;
  /** Probability points this feature adds (negative: removes) compared with its usual value. */
  effect: number;
}

/** The predicted probability that a release fails, why, and what Release Pilot did about it. */
export interface RiskAssessment {
  probability: number;
  /** `forest` once trained on enough history, else the transparent `prior`. */
  model: 'forest' | 'prior';
  /** When the forest was trained (absent for the prior). */
  modelTrainedAt?: string;
  /** Above this probability a release is blocked unless overridden. */
  threshold: number;
  blocked: boolean;
  /** The strongest reasons, largest first. */
  reasons: RiskReason[];
  /** The features the prediction used (for retraining and the team overview). */
  features: Record<string, number>;
  /**
   * What the prediction had to do without, in words (e.g. the change's size when the request sent
   * no lines or files changed). An unknown change size never counts as low risk.
   */
  unknown?: string[];
  /** The plan the risk and traffic chose, and why. */
  plan?: { name: string; reason: string };
  /**
   * Where the requested plan is less careful than the one the risk would have chosen (in words):
   * starting it needs the releases.plan.override permission, and the timeline says so.
   */
  planOverride?: { shaped: string; lessCareful: string[] };
  /** Who overrode the gate, and why (needs the releases.risk.override permission). */
  override?: { actor: string; reason: string };
}

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
  /** The version the stable side ran before this release: what a rollback of its success puts back. */
  previousVersion?: string;
  /** After a rollback: the service back at its pre-release level, measured. */
  recovery?: ReleaseRecovery;
  /** Who decided the rollback (a person, `judge`, `watch` or `release-pilot`). */
  rollbackActor?: string;
  /** What the judge carries from tick to tick (sequential statistics); opaque outside the judge. */
  judgeState?: unknown;
  /** Failed and inconclusive measurements so far, counted against the analysis limits (afresh for the watch). */
  measurements?: ReleaseMeasurements;
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
}

/** A page of releases, newest first. */
export interface ReleaseList {
  items: Release[];
  totalCount: number;
  offset: number;
  limit: number;
}

/** The plans a release can name, as `GET /plans` lists them. */
export interface PlanList {
  defaultPlan: string;
  plans: ReleasePlan[];
}

/** DORA figures of a team over a period, from its releases. */
export interface DoraFigures {
  /** Releases that succeeded, per day. */
  deploymentsPerDay: number;
  /** Rolled-back or failed releases out of all finished ones (0-1), or undefined without any. */
  changeFailureRate?: number;
  /** Median seconds from a bad release's first traffic to the service back at its pre-release level (its canary at weight 0 where not measured). */
  medianTimeToRestoreSeconds?: number;
  /** Median seconds from the commit (release metadata `commitTime`) to the release's success. */
  medianLeadTimeSeconds?: number;
  /** Median seconds from a bad release's first traffic to the rollback decision. */
  medianDetectionSeconds?: number;
  /** Median seconds from the rollback decision to the canary at weight 0. */
  medianRollbackSeconds?: number;
  finished: number;
  succeeded: number;
  rolledBack: number;
}

/** One day of a team's releases, for the overview's charts. */
export interface TeamDay {
  /** The day, `YYYY-MM-DD` (UTC). */
  day: string;
  succeeded: number;
  rolledBack: number;
  /** Mean predicted risk (0-1) of the day's releases, when any had one. */
  meanRisk?: number;
}

/** A team's releases: every entity owned by the group and its child groups. */
export interface TeamOverview {
  group: string;
  /** The group and its descendants whose releases are counted. */
  groups: string[];
  from: string;
  to: string;
  active: Release[];
  history: Release[];
  dora: DoraFigures;
  days: TeamDay[];
}
