import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  isActiveRelease,
  ListReleasesQuery,
  Release,
  ReleaseList,
  StepRecord,
  StoredSample,
  TimelineEvent,
  TimelineEventType,
} from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';

const migrationsDir = resolvePackagePath(
  '@release-pilot/plugin-releases-backend',
  'migrations',
);

/**
 * A message for a release's owners, stored with the timeline records it came from and deleted once
 * delivered (the outbox). The store keeps `message` as JSON and does not look into it.
 */
export interface OutboxEntry {
  id: string;
  releaseId: string;
  owner?: string;
  message: unknown;
  /** Not before this time may another replica deliver it (the storing one delivers it at once). */
  attemptAfter: string;
}

/** What the risk model needs to know of an earlier release. */
export interface ReleaseHistoryEntry {
  entityRef: string;
  createdBy: string;
  author?: string;
  createdAt: string;
  state: Release['state'];
  features?: Record<string, number>;
}

/** A deployment from before Release Pilot, imported to train the risk model from day one. */
export interface ImportedDeployment {
  entityRef: string;
  author?: string;
  at: string;
  features: Record<string, number>;
  outcome: 0 | 1;
}

/** A timeline entry before it is stored. */
export interface NewTimelineEvent {
  at: string;
  actor: string;
  type: TimelineEventType;
  message: string;
  data?: Record<string, unknown>;
}

type ReleaseRow = {
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
  lifecycle?: string | null;
  lease_owner?: string | null;
  lease_expires_at?: string | null;
  fencing_token?: number | string;
};

function toRow(release: Release): ReleaseRow {
  return {
    id: release.id,
    entity_ref: release.entityRef,
    active_entity_ref: isActiveRelease(release.state) ? release.entityRef : null,
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
    lifecycle: lifecycleColumn(release),
  };
}

/** The lifecycle fields and the analysis limits' counts, stored together (absent on releases of unmanaged targets from before deployers). */
function lifecycleColumn(release: Release): string | null {
  const { deployMode, operation, sides, previousVersion, recovery, rollbackActor, measurements } = release;
  const fields = { deployMode, operation, sides, previousVersion, recovery, rollbackActor, measurements };
  return Object.values(fields).some(v => v !== undefined) ? JSON.stringify(fields) : null;
}

function toOutboxRow(entry: OutboxEntry) {
  return {
    id: entry.id,
    release_id: entry.releaseId,
    owner_ref: entry.owner ?? null,
    message: JSON.stringify(entry.message),
    attempt_after: entry.attemptAfter,
  };
}

function fromRow(row: ReleaseRow): Release {
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
    latestVerdict: row.latest_verdict ? JSON.parse(row.latest_verdict) : undefined,
    judgeState: row.judge_state ? JSON.parse(row.judge_state) : undefined,
    ...(row.lifecycle ? JSON.parse(row.lifecycle) : {}),
  };
}

function isUniqueViolation(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return /unique|duplicate key/i.test(text);
}

/** Owns the releases database: releases, steps, timeline and samples. */
export class ReleasesStore {
  static async create(options: {
    database: DatabaseService;
  }): Promise<ReleasesStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new ReleasesStore(client);
  }

  private constructor(private readonly db: Knex) {}

  /** Stores a new release with its first timeline entry; refuses a second active release per entity. */
  async createRelease(release: Release, event: NewTimelineEvent | NewTimelineEvent[]): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        const active = await tx<ReleaseRow>('releases')
          .where({ active_entity_ref: release.entityRef })
          .first('id', 'version', 'state');
        if (active) {
          throw new ConflictError(
            `${release.entityRef} already has an active release ${active.id} (${active.version}, ${active.state}); finish or roll it back first`,
          );
        }
        await tx('releases').insert(toRow(release));
        await this.insertEvents(tx, release.id, Array.isArray(event) ? event : [event]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`${release.entityRef} already has an active release`);
      }
      throw error;
    }
  }

  /** The release, or NotFoundError. */
  async getRelease(id: string): Promise<Release> {
    const row = await this.db<ReleaseRow>('releases').where({ id }).first();
    if (!row) throw new NotFoundError(`No release with id ${id}`);
    return fromRow(row);
  }

  /** A page of releases, newest first. */
  async listReleases(query: ListReleasesQuery): Promise<ReleaseList> {
    const filtered = () => {
      const q = this.db<ReleaseRow>('releases');
      if (query.entityRef) q.where('entity_ref', query.entityRef);
      if (query.state) q.where('state', query.state);
      if (query.owner) q.whereIn('owner_ref', query.owner);
      if (query.active === true) q.whereNotNull('active_entity_ref');
      if (query.active === false) q.whereNull('active_entity_ref');
      if (query.minRisk !== undefined) q.where('risk_probability', '>=', query.minRisk);
      return q;
    };
    const [{ count }] = await filtered().count({ count: '*' });
    const rows = await filtered()
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(query.limit)
      .offset(query.offset);
    return {
      items: rows.map(fromRow),
      totalCount: Number(count),
      offset: query.offset,
      limit: query.limit,
    };
  }

  /**
   * Saves the next state of a release and its timeline entries atomically. Fails with ConflictError
   * when somebody else changed the release since `previous` was read.
   */
  async saveRelease(
    previous: Release,
    next: Release,
    events: NewTimelineEvent[],
    options: { leaseOwner?: string; outbox?: OutboxEntry[] } = {},
  ): Promise<void> {
    await this.db.transaction(async tx => {
      const query = tx('releases').where({ id: previous.id, revision: previous.revision });
      // The fence: a driver that lost its lease (paused, then woken) cannot write what it decided.
      if (options.leaseOwner) query.andWhere('lease_owner', options.leaseOwner);
      const updated = await query
        .update(toRow(next))
        .catch(error => {
          // Rolling a succeeded release back makes it active again: only while its entity has no other.
          if (isUniqueViolation(error)) throw new ConflictError(`${next.entityRef} already has an active release; finish or roll it back first`);
          throw error;
        });
      if (updated !== 1) {
        throw new ConflictError(
          options.leaseOwner
            ? `Release ${previous.id} was changed concurrently or is driven by another replica now`
            : `Release ${previous.id} was changed concurrently; reload and try again`,
        );
      }
      await this.insertEvents(tx, next.id, events);
      await this.recordSteps(tx, previous, next);
      if (options.outbox?.length) await tx('release_outbox').insert(options.outbox.map(toOutboxRow));
    });
  }

  /**
   * Outbox entries due for delivery (their storing replica died or failed to deliver), each claimed
   * for `retrySeconds` by a compare-and-set on its time, so two replicas never take the same one.
   */
  async claimOutbox(now: Date, retrySeconds: number, limit = 50): Promise<OutboxEntry[]> {
    const nowIso = now.toISOString();
    const next = new Date(now.getTime() + retrySeconds * 1000).toISOString();
    const rows = await this.db('release_outbox').where('attempt_after', '<=', nowIso).orderBy('attempt_after', 'asc').limit(limit);
    const claimed: OutboxEntry[] = [];
    for (const row of rows) {
      const won = await this.db('release_outbox').where({ id: row.id, attempt_after: row.attempt_after }).update({ attempt_after: next });
      if (won === 1) {
        claimed.push({ id: row.id, releaseId: row.release_id, owner: row.owner_ref ?? undefined, message: JSON.parse(row.message), attemptAfter: next });
      }
    }
    return claimed;
  }

  /** Removes delivered outbox entries. */
  async deleteOutbox(ids: string[]): Promise<void> {
    if (ids.length) await this.db('release_outbox').whereIn('id', ids).delete();
  }

  /**
   * What a delivery round decided, in one transaction: entries done are removed, entries to try
   * again get their new message and time, and the entries they led to (one per escalation channel)
   * are stored.
   */
  async settleOutbox(settled: {
    done: string[];
    retry: Array<{ id: string; message: unknown; attemptAfter: string }>;
    next: OutboxEntry[];
  }): Promise<void> {
    const { done, retry, next } = settled;
    if (!done.length && !retry.length && !next.length) return;
    await this.db.transaction(async tx => {
      if (next.length) {
        await tx('release_outbox').insert(next.map(toOutboxRow));
      }
      for (const r of retry) {
        await tx('release_outbox').where({ id: r.id }).update({ message: JSON.stringify(r.message), attempt_after: r.attemptAfter });
      }
      if (done.length) await tx('release_outbox').whereIn('id', done).delete();
    });
  }

  /** The releases of these owners created since `since` (team overviews), newest first. */
  async listOwnedReleases(owners: string[], since: string, options: { exceptTarget?: string; limit?: number } = {}): Promise<Release[]> {
    const { exceptTarget, limit = 5000 } = options;
    const rows = await this.db<ReleaseRow>('releases')
      .whereIn('owner_ref', owners)
      .where('created_at', '>=', since)
      .modify(query => void (exceptTarget !== undefined && query.whereNot('target', exceptTarget)))
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(limit);
    return rows.map(fromRow);
  }

  /** The first time each of these releases recorded each of these timeline types. */
  async firstEventTimes(releaseIds: string[], types: TimelineEventType[]): Promise<Map<string, Partial<Record<TimelineEventType, string>>>> {
    const times = new Map<string, Partial<Record<TimelineEventType, string>>>();
    for (let i = 0; i < releaseIds.length; i += 500) {
      const rows: Array<{ release_id: string; type: string; at: string }> = await this.db('release_events')
        .whereIn('release_id', releaseIds.slice(i, i + 500))
        .whereIn('type', types)
        .groupBy('release_id', 'type')
        .select('release_id', 'type')
        .min({ at: 'at' });
      for (const row of rows) {
        const entry = times.get(row.release_id) ?? {};
        entry[row.type as TimelineEventType] = row.at;
        times.set(row.release_id, entry);
      }
    }
    return times;
  }

  /** Appends timeline entries that change nothing else (for example a reconciled router weight). */
  async appendEvents(releaseId: string, events: NewTimelineEvent[]): Promise<void> {
    await this.db.transaction(tx => this.insertEvents(tx, releaseId, events));
  }

  /** Appends one tick's sample. */
  async appendSample(releaseId: string, sample: StoredSample): Promise<void> {
    await this.db('release_samples').insert({
      release_id: releaseId,
      at: sample.at,
      step_index: sample.stepIndex,
      canary_weight: sample.canaryWeight,
      canary: JSON.stringify(sample.canary),
      baseline: JSON.stringify(sample.baseline),
      verdict: sample.verdict ? JSON.stringify(sample.verdict) : null,
    });
  }

  /** Samples of a release, oldest first, optionally only those taken after `since`. */
  async listSamples(
    releaseId: string,
    options: { since?: string; /** Up to and including. */ until?: string; limit?: number } = {},
  ): Promise<StoredSample[]> {
    const q = this.db('release_samples').where({ release_id: releaseId });
    if (options.since) q.where('at', '>', options.since);
    if (options.until) q.where('at', '<=', options.until);
    const rows = await q.orderBy('at', 'desc').limit(options.limit ?? 5000);
    return rows.reverse().map(row => ({
      at: row.at,
      stepIndex: Number(row.step_index),
      canaryWeight: Number(row.canary_weight),
      canary: JSON.parse(row.canary),
      baseline: JSON.parse(row.baseline),
      verdict: row.verdict ? JSON.parse(row.verdict) : undefined,
    }));
  }

  /** When the last sample of a release was taken. */
  async lastSampleAt(releaseId: string): Promise<string | undefined> {
    const row = await this.db('release_samples')
      .where({ release_id: releaseId })
      .max({ at: 'at' })
      .first();
    return row?.at ?? undefined;
  }

  /** The timeline of a release, oldest first. */
  async listEvents(releaseId: string): Promise<TimelineEvent[]> {
    const rows = await this.db('release_events')
      .where({ release_id: releaseId })
      .orderBy('id', 'asc');
    return rows.map(row => ({
      id: Number(row.id),
      releaseId: row.release_id,
      at: row.at,
      actor: row.actor,
      type: row.type,
      message: row.message,
      data: row.data ? JSON.parse(row.data) : undefined,
    }));
  }

  /** When each step started and ended. */
  async listSteps(releaseId: string): Promise<StepRecord[]> {
    const rows = await this.db('release_steps')
      .where({ release_id: releaseId })
      .orderBy('id', 'asc');
    return rows.map(row => ({
      index: Number(row.step_index),
      weight: Number(row.weight),
      startedAt: row.started_at,
      endedAt: row.ended_at ?? undefined,
    }));
  }

  /**
   * Leases the active releases this driver may work on now: those with no lease, an expired one, or
   * one it holds already. Several backend replicas thus never drive the same release at once. Each
   * lease acquired gets a new fencing token (see `nextFencingToken`); one renewed keeps its token.
   */
  async claimActiveReleases(
    owner: string,
    now: Date,
    leaseSeconds: number,
  ): Promise<{
    releases: Release[];
    takeovers: Array<{ id: string; from: string; lastRenewedAt: string }>;
    /** The fencing token of each leased release, for its router calls. */
    fencingTokens: Map<string, number>;
  }> {
    const nowIso = now.toISOString();
    const expires = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
    return this.db.transaction(async tx => {
      const acquirable = (q: Knex.QueryBuilder) =>
        q
          .whereNotNull('active_entity_ref')
          .andWhere(w => w.whereNull('lease_owner').orWhere('lease_expires_at', '<=', nowIso));
      // Leases another replica let run out: whichever of those this replica wins is a takeover.
      const candidates: Array<Pick<ReleaseRow, 'id' | 'lease_owner' | 'lease_expires_at'>> = await acquirable(tx('releases')).select(
        'id',
        'lease_owner',
        'lease_expires_at',
      );
      const expired = candidates.filter(r => r.lease_owner && r.lease_owner !== owner && r.lease_expires_at! <= nowIso);
      if (candidates.length > 0) {
        const token = await this.nextFencingToken(tx);
        await acquirable(tx('releases').whereIn('id', candidates.map(r => r.id))).update({
          lease_owner: owner,
          lease_expires_at: expires,
          fencing_token: token,
        });
      }
      await tx('releases')
        .whereNotNull('active_entity_ref')
        .andWhere('lease_owner', owner)
        .andWhere('lease_expires_at', '>', nowIso)
        .update({ lease_expires_at: expires });
      const rows: ReleaseRow[] = await tx('releases')
        .whereNotNull('active_entity_ref')
        .andWhere('lease_owner', owner)
        .orderBy('created_at', 'asc');
      const mine = new Set(rows.map(r => r.id));
      const takeovers = expired
        .filter(r => mine.has(r.id))
        .map(r => ({
          id: r.id,
          from: r.lease_owner!,
          lastRenewedAt: new Date(new Date(r.lease_expires_at!).getTime() - leaseSeconds * 1000).toISOString(),
        }));
      const fencingTokens = new Map(rows.map(r => [r.id, Number(r.fencing_token ?? 0)]));
      return { releases: rows.map(fromRow), takeovers, fencingTokens };
    });
  }

  /**
   * Gives a release a new fencing token, for a person's action that moves its traffic from
   * whichever replica serves the request: the lease holder's calls in flight are refused after it.
   */
  async renewFencingToken(id: string): Promise<number> {
    return this.db.transaction(async tx => {
      const token = await this.nextFencingToken(tx);
      await tx('releases').where({ id }).update({ fencing_token: token });
      return token;
    });
  }

  /**
   * The next value of the database's one fencing counter. Incrementing takes the counter's row
   * lock, so tokens are handed out in commit order and never twice.
   */
  private async nextFencingToken(tx: Knex.Transaction): Promise<number> {
    await tx('release_fencing').where({ id: 1 }).increment('token', 1);
    const row = await tx('release_fencing').where({ id: 1 }).first('token');
    return Number(row.token);
  }

  /** When the first lease another replica holds on an active release runs out, if any. */
  async nextForeignLeaseExpiry(owner: string): Promise<Date | undefined> {
    const row = await this.db('releases')
      .whereNotNull('active_entity_ref')
      .whereNotNull('lease_owner')
      .whereNot('lease_owner', owner)
      .min({ at: 'lease_expires_at' })
      .first();
    return row?.at ? new Date(row.at) : undefined;
  }

  /** Whether `owner` still holds the lease of a release (checked right before a router call). */
  async holdsLease(id: string, owner: string, now: Date): Promise<boolean> {
    const row = await this.db<ReleaseRow>('releases').where({ id, lease_owner: owner }).first('lease_expires_at');
    return !!row && row.lease_expires_at! > now.toISOString();
  }

  private async insertEvents(
    tx: Knex.Transaction,
    releaseId: string,
    events: NewTimelineEvent[],
  ) {
    if (events.length === 0) return;
    await tx('release_events').insert(
      events.map(e => ({
        release_id: releaseId,
        at: e.at,
        actor: e.actor,
        type: e.type,
        message: e.message,
        data: e.data ? JSON.stringify(e.data) : null,
      })),
    );
  }

  /** Releases requested since `since` (newest first, at most `limit`), for the risk model's history features. */
  async listReleaseHistory(since: string, limit = 20_000): Promise<ReleaseHistoryEntry[]> {
    const rows = await this.db<ReleaseRow>('releases')
      .where('created_at', '>=', since)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .select('entity_ref', 'created_by', 'created_at', 'state', 'metadata', 'risk');
    return rows.map(row => {
      const metadata = JSON.parse(row.metadata ?? '{}');
      const risk = row.risk ? JSON.parse(row.risk) : undefined;
      return {
        entityRef: row.entity_ref,
        createdBy: row.created_by,
        author: typeof metadata.author === 'string' ? metadata.author : undefined,
        createdAt: row.created_at,
        state: row.state,
        features: risk?.features,
      };
    });
  }

  /** Historical deployments imported for a cold start (`release-pilot risk import`), oldest first. */
  async listImportedHistory(limit = 50_000): Promise<ImportedDeployment[]> {
    const rows = await this.db('risk_history').orderBy('at', 'desc').limit(limit);
    return rows
      .map(row => ({
        entityRef: row.entity_ref,
        author: row.author ?? undefined,
        at: row.at,
        features: JSON.parse(row.features),
        outcome: Number(row.outcome) as 0 | 1,
      }))
      .reverse();
  }

  async importHistory(deployments: ImportedDeployment[]): Promise<void> {
    await this.db.transaction(async tx => {
      for (let i = 0; i < deployments.length; i += 500) {
        await tx('risk_history').insert(
          deployments.slice(i, i + 500).map(d => ({
            entity_ref: d.entityRef,
            author: d.author ?? null,
            at: d.at,
            features: JSON.stringify(d.features),
            outcome: d.outcome,
          })),
        );
      }
    });
  }

  async saveRiskModel(model: { trainedAt: string; rows: number; validation?: unknown; model: unknown }): Promise<void> {
    await this.db('risk_models').insert({
      trained_at: model.trainedAt,
      rows: model.rows,
      validation: model.validation ? JSON.stringify(model.validation) : null,
      model: JSON.stringify(model.model),
    });
    // Keep the last five models.
    const keep = await this.db('risk_models').orderBy('id', 'desc').limit(5).pluck('id');
    await this.db('risk_models').whereNotIn('id', keep).delete();
  }

  async latestRiskModel(): Promise<unknown | undefined> {
    const row = await this.db('risk_models').orderBy('id', 'desc').first('model');
    return row ? JSON.parse(row.model) : undefined;
  }

  private async recordSteps(tx: Knex.Transaction, previous: Release, next: Release) {
    const stepChanged =
      next.stepStartedAt !== previous.stepStartedAt && next.stepStartedAt !== undefined;
    const finished = !isActiveRelease(next.state);
    if (stepChanged || finished) {
      await tx('release_steps')
        .where({ release_id: next.id })
        .whereNull('ended_at')
        .update({ ended_at: next.stepStartedAt && stepChanged ? next.stepStartedAt : next.updatedAt });
    }
    if (stepChanged && !finished) {
      await tx('release_steps').insert({
        release_id: next.id,
        step_index: next.currentStep,
        weight: next.canaryWeight,
        started_at: next.stepStartedAt,
      });
    }
  }
}
