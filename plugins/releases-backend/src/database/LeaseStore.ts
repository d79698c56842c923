import { Release } from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';
import { fromRow, isPostgres, ReleaseRow } from './rows';

/**
 * The last state this process saved of each release it drives, by id. Releases are immutable
 * values (the engine returns new ones), so holding them is safe; one is used only while its
 * revision is the database's.
 */
export class SavedReleases {
  readonly #byId = new Map<string, Release>();
  /** When the judge state this process last wrote of each release was (its tick). */
  readonly #stateAt = new Map<string, string>();

  get(id: string): Release | undefined {
    return this.#byId.get(id);
  }

  /** `withState`: the save wrote its judge state too. */
  set(release: Release, withState: boolean): void {
    this.#byId.set(release.id, release);
    const stateAt = release.judgeStateAt ?? release.latestVerdict?.at;
    if (withState && stateAt) this.#stateAt.set(release.id, stateAt);
  }

  /** The tick of the judge state this process wrote last of a release, if it wrote one. */
  stateWrittenAt(id: string): string | undefined {
    return this.#stateAt.get(id);
  }

  /** Forgets all but these (the releases this replica holds now). */
  retain(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of this.#byId.keys()) if (!keep.has(id)) this.#byId.delete(id);
    for (const id of this.#stateAt.keys()) if (!keep.has(id)) this.#stateAt.delete(id);
  }
}

/**
 * Leases and fencing: which replica drives which active release (column `lease_owner` of
 * `releases`), while that replica is alive (`release_replicas`: each replica's heartbeat and until
 * when it holds its releases), and the one fencing counter (`release_fencing`) whose tokens let a
 * router refuse a replica that lost its lease. Renewing is one row per replica, however many
 * releases it drives: a release's row is written only when its owner changes.
 */
export class LeaseStore {
  /** When each replica of this process found its own heartbeat expired: it had been cut off (from the database, or frozen). */
  readonly #cutOffAt = new Map<string, number>();

  constructor(
    private readonly db: Knex,
    /** The releases as this process saved them last: a claim reads in full only the others. */
    private readonly saved: SavedReleases,
  ) {}

  /**
   * Leases the active releases this driver may work on now: those it holds already, plus, up to its
   * share, those nobody holds or whose holder stopped renewing. Several backend replicas thus never
   * drive the same release at once, and each drives about its share: the active releases divided by
   * the replicas alive. A dead replica's releases are thus split among the others, not taken all by
   * whichever ticks first; on PostgreSQL, replicas claiming at the same moment skip the rows another
   * is taking (`SKIP LOCKED`). Each lease acquired gets a new fencing token (see
   * `nextFencingToken`); one held keeps its token.
   */
  async claim(
    owner: string,
    now: Date,
    leaseSeconds: number,
  ): Promise<{
    releases: Release[];
    takeovers: Array<{ id: string; from: string; lastRenewedAt: string }>;
    /** The fencing token of each leased release, for its router calls. */
    fencingTokens: Map<string, number>;
    /** This replica's share: the active releases over the replicas alive, rounded up. */
    share: number;
    /** The replicas alive, this one included. */
    replicas: number;
  }> {
    const nowIso = now.toISOString();
    return this.db.transaction(async tx => {
      const replicas = await this.seen(tx, owner, now, leaseSeconds);
      const [{ active }] = await tx('releases').whereNotNull('active_entity_ref').count({ active: '*' });
      const share = Math.ceil(Number(active) / replicas);
      const [{ held }] = await tx('releases').whereNotNull('active_entity_ref').andWhere('lease_owner', owner).count({ held: '*' });
      const room = share - Number(held);
      // Releases nobody holds, or whose holder is no longer alive: whichever of the latter this replica wins is a takeover.
      // For one lease after this replica was cut off, it takes over no replica that may only have been
      // cut off too (after the database was gone, every heartbeat has expired): they renew within
      // that lease and keep their releases, instead of all changing hands at once.
      const rejoining = now.getTime() - (this.#cutOffAt.get(owner) ?? -Infinity) < leaseSeconds * 1000;
      const alive = rejoining ? tx('release_replicas').select('id') : tx('release_replicas').where('expires_at', '>', nowIso).select('id');
      const acquirable = (q: Knex.QueryBuilder) =>
        q.whereNotNull('active_entity_ref').andWhere(w => w.whereNull('lease_owner').orWhereNotIn('lease_owner', alive));
      let candidates: Array<Pick<ReleaseRow, 'id' | 'lease_owner'>> = [];
      if (room > 0) {
        const query = acquirable(tx('releases')).select('id', 'lease_owner').orderBy('created_at', 'asc').limit(room);
        candidates = await (isPostgres(this.db) ? query.forUpdate().skipLocked() : query);
      }
      if (candidates.length > 0) {
        const token = await this.nextFencingToken(tx);
        await acquirable(tx('releases').whereIn('id', candidates.map(r => r.id))).update({ lease_owner: owner, fencing_token: token });
      }
      // Which releases it holds, light; each one read in full only when this replica did not save it last (its judge's state is large).
      const rows: Array<Pick<ReleaseRow, 'id' | 'revision' | 'fencing_token'>> = await tx('releases')
        .whereNotNull('active_entity_ref')
        .andWhere('lease_owner', owner)
        .orderBy('created_at', 'asc')
        .select('id', 'revision', 'fencing_token');
      const known = new Map<string, Release>();
      for (const row of rows) {
        const saved = this.saved.get(row.id);
        if (saved && saved.revision === Number(row.revision)) known.set(row.id, saved);
      }
      const unknown = rows.filter(r => !known.has(r.id)).map(r => r.id);
      for (let i = 0; i < unknown.length; i += 500) {
        const full: ReleaseRow[] = await tx('releases').whereIn('id', unknown.slice(i, i + 500));
        for (const row of full) known.set(row.id, fromRow(row));
      }
      this.saved.retain(known.keys());
      const mine = new Set(rows.map(r => r.id));
      const previousOwners = [...new Set(candidates.filter(r => r.lease_owner && r.lease_owner !== owner && mine.has(r.id)).map(r => r.lease_owner!))];
      const lastSeen = new Map<string, string>(
        previousOwners.length ? (await tx('release_replicas').whereIn('id', previousOwners).select('id', 'seen_at')).map((r: { id: string; seen_at: string }) => [r.id, r.seen_at]) : [],
      );
      const takeovers = candidates
        .filter(r => r.lease_owner && r.lease_owner !== owner && mine.has(r.id))
        .map(r => ({ id: r.id, from: r.lease_owner!, lastRenewedAt: lastSeen.get(r.lease_owner!) ?? nowIso }));
      const fencingTokens = new Map(rows.map(r => [r.id, Number(r.fencing_token ?? 0)]));
      return { releases: rows.map(r => known.get(r.id)!), takeovers, fencingTokens, share, replicas };
    });
  }

  /**
   * Says this replica is alive until a lease from now: it keeps every release it holds. Run on a
   * timer of its own, so a replica whose tick waits on a slow provider keeps its releases, and a dead
   * one loses them one lease after its last renewal. One row, however many releases.
   */
  async renew(owner: string, now: Date, leaseSeconds: number): Promise<void> {
    await this.db.transaction(tx => this.seen(tx, owner, now, leaseSeconds));
  }

  /**
   * Lets go of these releases' leases (a replica above its share, after another joined): they are
   * claimed afresh by a replica below its share, without a takeover, with a new fencing token.
   */
  async release(owner: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.db('releases').whereIn('id', ids).andWhere('lease_owner', owner).update({ lease_owner: null, lease_expires_at: null });
  }

  /** Stops saying this replica is alive (shutdown): the others count it out and take its releases at once. */
  async leave(owner: string): Promise<void> {
    await this.db('release_replicas').where({ id: owner }).delete();
  }

  /** Records that `owner` is alive until a lease from now and returns how many replicas are alive; forgets those gone for an hour. */
  private async seen(tx: Knex.Transaction, owner: string, now: Date, leaseSeconds: number): Promise<number> {
    const nowIso = now.toISOString();
    const expires = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
    const mine = await tx('release_replicas').where({ id: owner }).first('expires_at');
    if (mine && new Date(mine.expires_at).getTime() <= now.getTime()) this.#cutOffAt.set(owner, now.getTime());
    await tx('release_replicas').insert({ id: owner, seen_at: nowIso, expires_at: expires }).onConflict('id').merge({ seen_at: nowIso, expires_at: expires });
    await tx('release_replicas').where('expires_at', '<', new Date(now.getTime() - Math.max(3600, leaseSeconds * 10) * 1000).toISOString()).delete();
    const [{ alive }] = await tx('release_replicas').where('expires_at', '>', nowIso).count({ alive: '*' });
    return Math.max(1, Number(alive));
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
  async nextForeignExpiry(owner: string): Promise<Date | undefined> {
    const row = await this.db('release_replicas')
      .whereNot('id', owner)
      .whereIn('id', this.db('releases').whereNotNull('active_entity_ref').whereNotNull('lease_owner').distinct('lease_owner'))
      .min({ at: 'expires_at' })
      .first();
    return row?.at ? new Date(row.at) : undefined;
  }
  /** Whether `owner` still holds the lease of a release (checked right before a router call). */
  async holds(id: string, owner: string, now: Date): Promise<boolean> {
    const row = await this.db('releases')
      .join('release_replicas', 'release_replicas.id', 'releases.lease_owner')
      .where({ 'releases.id': id, 'releases.lease_owner': owner })
      .andWhere('release_replicas.expires_at', '>', now.toISOString())
      .first('releases.id');
    return !!row;
  }
}
