import { Knex } from 'knex';
import { toOutboxRow } from './rows';

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

/**
 * The outbox: messages for a release's owners, stored in the same transaction as the decision they
 * report, and delivered (by any replica) until they are gone. Table `release_outbox`.
 */
export class OutboxStore {
  constructor(private readonly db: Knex) {}

  /**
   * Outbox entries due for delivery (their storing replica died or failed to deliver), each claimed
   * for `retrySeconds` by a compare-and-set on its time, so two replicas never take the same one.
   */
  async claim(now: Date, retrySeconds: number, limit = 50): Promise<OutboxEntry[]> {
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
  async delete(ids: string[]): Promise<void> {
    if (ids.length) await this.db('release_outbox').whereIn('id', ids).delete();
  }
  /**
   * What a delivery round decided, in one transaction: entries done are removed, entries to try
   * again get their new message and time, and the entries they led to (one per escalation channel)
   * are stored.
   */
  async settle(settled: {
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
}
