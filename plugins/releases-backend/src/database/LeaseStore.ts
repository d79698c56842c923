import { Release } from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';
import { fromRow, ReleaseRow } from './rows';

/**
 * Leases and fencing: which replica drives which active release (columns `lease_owner`,
 * `lease_expires_at` and `fencing_token` of `releases`), and the one fencing counter
 * (`release_fencing`) whose tokens let a router refuse a replica that lost its lease.
 */
export class LeaseStore {
  constructor(private readonly db: Knex) {}

  /**
   * Leases the active releases this driver may work on now: those with no lease, an expired one, or
   * one it holds already. Several backend replicas thus never drive the same release at once. Each
   * lease acquired gets a new fencing token (see `nextFencingToken`); one renewed keeps its token.
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
  async nextForeignExpiry(owner: string): Promise<Date | undefined> {
    const row = await this.db('releases')
      .whereNotNull('active_entity_ref')
      .whereNotNull('lease_owner')
      .whereNot('lease_owner', owner)
      .min({ at: 'lease_expires_at' })
      .first();
    return row?.at ? new Date(row.at) : undefined;
  }
  /** Whether `owner` still holds the lease of a release (checked right before a router call). */
  async holds(id: string, owner: string, now: Date): Promise<boolean> {
    const row = await this.db<ReleaseRow>('releases').where({ id, lease_owner: owner }).first('lease_expires_at');
    return !!row && row.lease_expires_at! > now.toISOString();
  }
}
