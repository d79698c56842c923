import { Knex } from 'knex';
import { isActiveRelease, Release } from '@release-pilot/plugin-releases-common';
import { OutboxEntry } from './OutboxStore';

/** How a release is stored: one row of `releases`, its JSON columns as text. */
export type ReleaseRow = {
  id: string;
  entity_ref: string;
  active_entity_ref: string | null;
  version: string;
  target: string;
  analysis: string | null;
  state: Release['state'];
  plan: string;
  current_step: number;
  step_started_at: string | null;
  watch_started_at: string | null;
  canary_weight: number;
  step_canary_requests: number;
  consecutive_provider_errors: number;
  router_error_since?: string | null;
  router_error?: string | null;
  warm_up_until?: string | null;
  revision: number;
  created_by: string;
  owner_ref: string | null;
  risk_probability?: number | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  reason: string | null;
  metadata: string;
  target_annotations: string | null;
  risk: string | null;
  gate_step: number | null;
  approved_step: number | null;
  latest_verdict: string | null;
  judge_state: string | null;
  /** The tick whose judge state `judge_state` is (the latest verdict's, unless a tick left it out). */
  judge_state_at?: string | null;
  lifecycle?: string | null;
  lease_owner?: string | null;
  lease_expires_at?: string | null;
  fencing_token?: number | string;
  parent_id?: string | null;
  region?: string | null;
  rollout?: string | null;
};

export function toRow(release: Release): ReleaseRow {
  return {
    id: release.id,
    entity_ref: release.entityRef,
    active_entity_ref: isActiveRelease(release.state) ? activeKey(release) : null,
    version: release.version,
    target: release.target,
    analysis: release.analysis ?? null,
    state: release.state,
    plan: JSON.stringify(release.plan),
    current_step: release.currentStep,
    step_started_at: release.stepStartedAt ?? null,
    watch_started_at: release.watchStartedAt ?? null,
    canary_weight: release.canaryWeight,
    step_canary_requests: release.stepCanaryRequests,
    consecutive_provider_errors: release.consecutiveProviderErrors,
    router_error_since: release.routerErrorSince ?? null,
    router_error: release.routerError ?? null,
    warm_up_until: release.warmUpUntil ?? null,
    revision: release.revision,
    created_by: release.createdBy,
    owner_ref: release.owner ?? null,
    risk_probability: release.risk?.probability ?? null,
    created_at: release.createdAt,
    updated_at: release.updatedAt,
    finished_at: release.finishedAt ?? null,
    reason: release.reason ?? null,
    metadata: JSON.stringify(release.metadata),
    target_annotations: release.annotations ? JSON.stringify(release.annotations) : null,
    risk: release.risk ? JSON.stringify(release.risk) : null,
    gate_step: release.gateStep ?? null,
    approved_step: release.approvedStep ?? null,
    latest_verdict: release.latestVerdict ? JSON.stringify(release.latestVerdict) : null,
    judge_state: release.judgeState === undefined ? null : JSON.stringify(release.judgeState),
    judge_state_at: release.judgeState === undefined ? null : (release.judgeStateAt ?? release.latestVerdict?.at ?? null),
    lifecycle: lifecycleColumn(release),
    parent_id: release.parentId ?? null,
    region: release.region ?? null,
    rollout: release.rollout ? JSON.stringify(release.rollout) : null,
  };
}

/** What an active release holds: its entity, or for a region's release the entity in that region. */
export function activeKey(release: Release): string {
  return release.region ? `${release.entityRef}@${release.region}` : release.entityRef;
}

/** The lifecycle fields, the analysis limits' counts and the resilience gate, stored together (absent on releases of unmanaged targets from before deployers). */
export function lifecycleColumn(release: Release): string | null {
  const { deployMode, operation, sides, previousVersion, recovery, rollbackActor, measurements, resilience } = release;
  const fields = { deployMode, operation, sides, previousVersion, recovery, rollbackActor, measurements, resilience };
  return Object.values(fields).some(v => v !== undefined) ? JSON.stringify(fields) : null;
}

export function toOutboxRow(entry: OutboxEntry) {
  return {
    id: entry.id,
    release_id: entry.releaseId,
    owner_ref: entry.owner ?? null,
    message: JSON.stringify(entry.message),
    attempt_after: entry.attemptAfter,
  };
}

export function fromRow(row: ReleaseRow): Release {
  const latestVerdict: Release['latestVerdict'] = row.latest_verdict ? JSON.parse(row.latest_verdict) : undefined;
  // A judge state older than the latest verdict: ticks since did not write it (see `judgeStateAt`).
  const stateBehind = row.judge_state && row.judge_state_at && latestVerdict && row.judge_state_at < latestVerdict.at;
  return {
    id: row.id,
    entityRef: row.entity_ref,
    version: row.version,
    target: row.target,
    analysis: row.analysis ?? undefined,
    state: row.state,
    plan: JSON.parse(row.plan),
    currentStep: Number(row.current_step),
    stepStartedAt: row.step_started_at ?? undefined,
    watchStartedAt: row.watch_started_at ?? undefined,
    canaryWeight: Number(row.canary_weight),
    stepCanaryRequests: Number(row.step_canary_requests),
    consecutiveProviderErrors: Number(row.consecutive_provider_errors),
    routerErrorSince: row.router_error_since ?? undefined,
    routerError: row.router_error ?? undefined,
    warmUpUntil: row.warm_up_until ?? undefined,
    revision: Number(row.revision),
    createdBy: row.created_by,
    owner: row.owner_ref ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
    reason: row.reason ?? undefined,
    metadata: JSON.parse(row.metadata),
    annotations: row.target_annotations ? JSON.parse(row.target_annotations) : undefined,
    risk: row.risk ? JSON.parse(row.risk) : undefined,
    gateStep: row.gate_step ?? undefined,
    approvedStep: row.approved_step ?? undefined,
    latestVerdict,
    judgeState: row.judge_state ? JSON.parse(row.judge_state) : undefined,
    ...(stateBehind && { judgeStateAt: row.judge_state_at! }),
    ...(row.lifecycle ? JSON.parse(row.lifecycle) : {}),
    ...(row.parent_id && { parentId: row.parent_id }),
    ...(row.region && { region: row.region }),
    ...(row.rollout && { rollout: JSON.parse(row.rollout) }),
  };
}

export function isUniqueViolation(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return /unique|duplicate key/i.test(text);
}

/** Whether the database is PostgreSQL (batched writes, SKIP LOCKED, table sizes). */
export function isPostgres(db: Knex): boolean {
  return String(db.client.config.client).startsWith('pg');
}
