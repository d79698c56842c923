import { ResilienceGatePlan } from './resilience';
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
  /**
   * Chaos experiments on the canary (at 0 %) and a stable instance before the first step, on targets
   * with a fault injector: the release goes on only if the canary is no less resilient.
   */
  gate?: ResilienceGatePlan;
}

/** The plans a release can name, as `GET /plans` lists them. */
export interface PlanList {
  defaultPlan: string;
  plans: ReleasePlan[];
}
