/** The Argo Rollouts actions Release Pilot offers on an entity's Rollout (`kubectl argo rollouts <action>`). */
export const ARGO_ROLLOUT_ACTIONS = ['promote', 'promote-full', 'abort', 'retry', 'undo'] as const;

export type ArgoRolloutAction = (typeof ARGO_ROLLOUT_ACTIONS)[number];

/** One step of a canary Rollout, in words a person reads. */
export interface ArgoRolloutStep {
  index: number;
  /** `setWeight`, `pause`, `analysis`, `experiment`, `setCanaryScale`, `setHeaderRoute`, ... */
  kind: string;
  /** E.g. "send 20 % of traffic to the canary", "pause until promoted", "pause 10m". */
  text: string;
  weight?: number;
}

/** A side of the Rollout: the ReplicaSet behind it. */
export interface ArgoRolloutSide {
  replicaSet: string;
  revision?: number;
  images: string[];
  replicas: number;
  ready: number;
}

/** An AnalysisRun of the Rollout, with its measurements. */
export interface ArgoAnalysisRun {
  name: string;
  phase: string;
  message?: string;
  startedAt?: string;
  metrics: Array<{
    name: string;
    phase: string;
    successful: number;
    failed: number;
    inconclusive: number;
    measurements: Array<{ phase: string; value?: string; startedAt?: string; finishedAt?: string; message?: string }>;
  }>;
}

/** An entity's Argo Rollout, as the Releases tab shows it (`GET /argo-rollouts?entityRef=`). */
export interface ArgoRolloutView {
  name: string;
  namespace: string;
  strategy: 'canary' | 'blueGreen' | 'unknown';
  /** Argo Rollouts' own phase: Healthy, Progressing, Paused, Degraded. */
  phase: string;
  message?: string;
  /** Release Pilot's words for where it stands, e.g. "Paused at step 2 of 5 (20 % canary) until someone promotes it". */
  summary: string;
  steps: ArgoRolloutStep[];
  /** The step the Rollout is on (0-based; `steps.length` when all are done). */
  currentStepIndex?: number;
  /** The canary's share of traffic now (%). */
  canaryWeight: number;
  paused: boolean;
  pauseConditions: Array<{ reason: string; startTime?: string }>;
  aborted: boolean;
  stable?: ArgoRolloutSide;
  canary?: ArgoRolloutSide;
  analysisRuns: ArgoAnalysisRun[];
  /** What each action would do now, or why it is not possible. */
  actions: Record<ArgoRolloutAction, { possible: boolean; why: string }>;
}
