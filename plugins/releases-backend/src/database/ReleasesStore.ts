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
import { LeaseStore, SavedReleases } from './LeaseStore';
import { WriteBatch } from './WriteBatch';
import { isPlainTick, PlainSave, sampleRow, staleSaveError, writePlainSaves } from './tickWrites';
import { OutboxEntry, OutboxStore } from './OutboxStore';
import { activeKey, fromRow, isPostgres, isUniqueViolation, ReleaseRow, toOutboxRow, toRow } from './rows';
import { RiskStore } from './RiskStore';
import { SampleRetention } from './SampleRetention';

export type { OutboxEntry } from './OutboxStore';
export type { ImportedDeployment, ReleaseHistoryEntry } from './RiskStore';

const migrationsDir = resolvePackagePath(
  '@release-pilot/plugin-releases-backend',
  'migrations',
);


/** A timeline entry before it is stored. */
export interface NewTimelineEvent {
  at: string;
  actor: string;
  type: TimelineEventType;
  message: string;
  data?: Record<string, unknown>;
}



function eventRow(releaseId: string, e: NewTimelineEvent) {
  return { release_id: releaseId, at: e.at, actor: e.actor, type: e.type, message: e.message, data: e.data ? JSON.stringify(e.data) : null };
}

/** How often a tick that only measured writes the judge's state, by default (`judgeStateSeconds`). */
export const DEFAULT_JUDGE_STATE_SECONDS = 10;

/**
 * The releases database. This class owns the release aggregate: releases, their steps, timeline and
 * samples; the other aggregates are its parts `leases`, `outbox` and `risk`, each in its own file
 * over its own tables. All share one Knex client and the plugin's migrations.
 */
export class ReleasesStore {
  static async create(options: {
    database: DatabaseService;
    /**
     * On PostgreSQL, a tick that only measured writes the judge's state (about 10 KB) at most this
     * often; the ticks between write the rest, and a replica that reads an older state counts their
     * samples again (`Release.judgeStateAt`). 0 writes it on every tick. Default 10.
     */
    judgeStateSeconds?: number;
  }): Promise<ReleasesStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip) {
      await client.migrate.latest({ directory: migrationsDir });
    }
    return new ReleasesStore(client, options.judgeStateSeconds ?? DEFAULT_JUDGE_STATE_SECONDS);
  }

  /** Leases and fencing of the active releases. */
  readonly leases: LeaseStore;
  /** Messages for owners, delivered until gone. */
  readonly outbox: OutboxStore;
  /** The risk model's history and trained models. */
  readonly risk: RiskStore;
  /** Compaction of ended releases' samples. */
  readonly retention: SampleRetention;

  readonly #listeners: Array<(release: Release, changed: boolean) => void> = [];

  /**
   * Hears every release this process creates or saves, once it is stored; `changed` when its state
   * changed or its timeline grew (not for a tick that only measured). Listeners must not throw.
   */
  onSaved(listener: (release: Release, changed: boolean) => void): void {
    this.#listeners.push(listener);
  }

  private notify(release: Release, changed: boolean) {
    for (const listener of this.#listeners) listener(release, changed);
  }

  /** What this process saved last of each release (a claim reuses it while its revision is current). */
  private readonly saved = new SavedReleases();

  /** On PostgreSQL, plain ticks' saves and every sample go in batches (see `WriteBatch`). */
  private readonly batches?: { saves: WriteBatch<PlainSave>; samples: WriteBatch<ReturnType<typeof sampleRow>> };

  private constructor(
    private readonly db: Knex,
    private readonly judgeStateSeconds: number,
  ) {
    if (isPostgres(db)) {
      this.batches = {
        saves: new WriteBatch(saves => writePlainSaves(this.db, saves)),
        samples: new WriteBatch(async rows => {
          await this.db('release_samples').insert(rows);
          return [];
        }),
      };
    }
    this.leases = new LeaseStore(db, this.saved);
    this.outbox = new OutboxStore(db);
    this.risk = new RiskStore(db);
    this.retention = new SampleRetention(db);
  }

  /**
   * Stores a new release with its first timeline records; refuses a second active release per
   * entity. `quiet`: without telling the listeners (a demo history seeded at start-up, which no page
   * shows live).
   */
  async createRelease(release: Release, event: NewTimelineEvent | NewTimelineEvent[], options: { quiet?: boolean } = {}): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        const active = await tx<ReleaseRow>('releases')
          .where({ active_entity_ref: activeKey(release) })
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
    if (!options.quiet) this.notify(release, true);
  }

  /** The release, or NotFoundError. */
  async getRelease(id: string): Promise<Release> {
    const row = await this.db<ReleaseRow>('releases').where({ id }).first();
    if (!row) throw new NotFoundError(`No release with id ${id}`);
    return fromRow(row);
  }

  /** A page of releases, newest first; a release across regions counts once (its regions' releases are its parts). */
  async listReleases(query: ListReleasesQuery): Promise<ReleaseList> {
    const filtered = () => {
      const q = this.db<ReleaseRow>('releases').whereNull('parent_id');
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
    if (this.batches && events.length === 0 && !options.outbox?.length && isPlainTick(previous, next)) {
      // A tick that only measured (the common one): written with the others of its moment, in one statement.
      const withState = this.judgeStateDue(next);
      await this.batches.saves.add({ previous, next, leaseOwner: options.leaseOwner, withState });
      this.saved.set(next, withState);
      this.notify(next, false);
      return;
    }
    await this.db.transaction(async tx => {
      const query = tx('releases').where({ id: previous.id, revision: previous.revision });
      // The fence: a driver that lost its lease (paused, then woken) cannot write what it decided.
      if (options.leaseOwner) query.andWhere('lease_owner', options.leaseOwner);
      // An ended release holds no lease: rolled back after its success, it is claimed afresh, not taken over.
      const updated = await query
        .update(isActiveRelease(next.state) ? toRow(next) : { ...toRow(next), lease_owner: null, lease_expires_at: null })
        .catch(error => {
          // Rolling a succeeded release back makes it active again: only while its entity has no other.
          if (isUniqueViolation(error)) throw new ConflictError(`${next.entityRef} already has an active release; finish or roll it back first`);
          throw error;
        });
      if (updated !== 1) throw staleSaveError(previous.id, options.leaseOwner);
      await this.insertEvents(tx, next.id, events);
      await this.recordSteps(tx, previous, next);
      if (options.outbox?.length) await tx('release_outbox').insert(options.outbox.map(toOutboxRow));
    });
    if (isActiveRelease(next.state)) this.saved.set(next, true);
    this.notify(next, previous.state !== next.state || events.length > 0);
  }

  /**
   * Whether a tick that only measured writes the judge's state: while the canary is judged (running
   * or paused), once `judgeStateSeconds` passed since this process wrote it last; otherwise (the
   * watch, whose first tick reads the service's history into it) always.
   */
  private judgeStateDue(next: Release): boolean {
    if ((next.state !== 'running' && next.state !== 'paused') || next.judgeStateAt !== undefined) return true;
    const written = this.saved.stateWrittenAt(next.id);
    const at = next.latestVerdict?.at;
    return !written || !at || Date.parse(at) - Date.parse(written) >= this.judgeStateSeconds * 1000;
  }

  /** The regions' releases of a release across regions, in the order they were started. */
  async listRegionReleases(parentId: string): Promise<Release[]> {
    const rows = await this.db<ReleaseRow>('releases').where({ parent_id: parentId }).orderBy([{ column: 'created_at', order: 'asc' }, { column: 'region', order: 'asc' }]);
    return rows.map(fromRow);
  }

  /** The releases of these owners created since `since` (team overviews), newest first; a release across regions counts once. */
  async listOwnedReleases(owners: string[], since: string, options: { exceptTarget?: string; limit?: number } = {}): Promise<Release[]> {
    const { exceptTarget, limit = 5000 } = options;
    const rows = await this.db<ReleaseRow>('releases')
      .whereNull('parent_id')
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

  /** Appends timeline entries of many releases in one transaction (a replica's takeovers). */
  async appendTimeline(entries: Array<{ releaseId: string; event: NewTimelineEvent }>): Promise<void> {
    await this.db.transaction(async tx => {
      for (let i = 0; i < entries.length; i += 200) {
        await tx('release_events').insert(entries.slice(i, i + 200).map(({ releaseId, event }) => eventRow(releaseId, event)));
      }
    });
  }

  /**
   * Appends one tick's sample. Its verdict is kept without the evidence (the release's latest
   * verdict and its timeline hold that): the outcome and summary per tick are what the charts need.
   */
  async appendSample(releaseId: string, sample: StoredSample): Promise<void> {
    const row = sampleRow(releaseId, sample);
    if (this.batches) await this.batches.samples.add(row);
    else await this.db('release_samples').insert(row);
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






  private async insertEvents(
    tx: Knex.Transaction,
    releaseId: string,
    events: NewTimelineEvent[],
  ) {
    if (events.length === 0) return;
    await tx('release_events').insert(events.map(e => eventRow(releaseId, e)));
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
