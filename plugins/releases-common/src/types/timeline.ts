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
  | 'recovery_unverified'
  | 'wave_started'
  | 'region_failed'
  | 'gate_started'
  | 'fault_injected'
  | 'fault_removed'
  | 'experiment_passed'
  | 'experiment_failed'
  | 'gate_passed'
  | 'gate_failed'
  | 'gate_inconclusive';

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
