import { mergeTrafficStats } from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';
import { isPostgres } from './rows';

/** What retention keeps of an ended release's samples. */
export interface RetentionOptions {
  /** A release's samples are compacted this long after it ended (full resolution until then). */
  compactAfterMinutes: number;
  /** Compacted samples: one per this many seconds, step and weight. */
  sampleBucketSeconds: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { compactAfterMinutes: 60, sampleBucketSeconds: 30 };

interface SampleRow {
  at: string;
  step_index: number;
  canary_weight: number;
  canary: string;
  baseline: string;
  verdict: string | null;
}

/**
 * Sample retention: a release keeps a sample per tick while it runs (the judge and the live charts
 * read them); some time after it ended its samples are merged into one per bucket of time, step and
 * weight, and its judge's state is dropped. The counts are sums, so every request, error, latency bucket and counter stays counted:
 * the charts and the team figures read the same totals from fewer rows.
 */
export class SampleRetention {
  constructor(private readonly db: Knex) {}

  /** Compacts up to `limit` ended releases whose time has come; returns how many releases and rows it merged. */
  async compactDue(now: Date, options: RetentionOptions, limit = 1000): Promise<{ releases: number; rowsBefore: number; rowsAfter: number }> {
    const endedBefore = new Date(now.getTime() - options.compactAfterMinutes * 60_000).toISOString();
    const due: Array<{ id: string }> = await this.db('releases')
      .whereNull('active_entity_ref')
      .whereNotNull('finished_at')
      .where('finished_at', '<=', endedBefore)
      .whereNull('samples_compacted_at')
      .orderBy('finished_at', 'asc')
      .limit(limit)
      .select('id');
    let rowsBefore = 0;
    let rowsAfter = 0;
    // Releases with no sample to merge (none, or never two in a bucket's time) are only marked, together.
    const counts: Array<{ release_id: string; n: string | number }> = due.length
      ? await this.db('release_samples').whereIn('release_id', due.map(r => r.id)).groupBy('release_id').select('release_id').count({ n: '*' })
      : [];
    const sampled = new Map(counts.map(c => [c.release_id, Number(c.n)]));
    const bare = due.filter(r => (sampled.get(r.id) ?? 0) < 2).map(r => r.id);
    if (bare.length) {
      await this.db('releases').whereIn('id', bare).whereNull('active_entity_ref').update({ samples_compacted_at: now.toISOString(), judge_state: null });
      for (const id of bare) rowsBefore += sampled.get(id) ?? 0;
      rowsAfter = rowsBefore;
    }
    for (const { id } of due.filter(r => !bare.includes(r.id))) {
      const rows = await this.compact(id, options.sampleBucketSeconds, now);
      rowsBefore += rows.before;
      rowsAfter += rows.after;
    }
    return { releases: due.length, rowsBefore, rowsAfter };
  }

  /** Merges one ended release's samples into buckets, in one transaction; only while it is still ended. */
  async compact(releaseId: string, bucketSeconds: number, now: Date): Promise<{ before: number; after: number }> {
    return this.db.transaction(async tx => {
      const ended = await tx('releases').where({ id: releaseId }).whereNull('active_entity_ref').first('id');
      if (!ended) return { before: 0, after: 0 };
      const rows: SampleRow[] = await tx('release_samples').where({ release_id: releaseId }).orderBy('at', 'asc');
      const groups = new Map<string, SampleRow[]>();
      for (const row of rows) {
        const bucket = Math.floor(Date.parse(row.at) / 1000 / bucketSeconds);
        const key = `${row.step_index}|${row.canary_weight}|${bucket}`;
        groups.set(key, [...(groups.get(key) ?? []), row]);
      }
      if ([...groups.values()].some(group => group.length > 1)) {
        // Each bucket becomes one row: the last tick's time, step, weight and verdict, every count summed.
        const merged = [...groups.values()].map(group => {
          const last = group[group.length - 1];
          return {
            release_id: releaseId,
            at: last.at,
            step_index: last.step_index,
            canary_weight: last.canary_weight,
            canary: group.length > 1 ? JSON.stringify(mergeTrafficStats(group.map(r => JSON.parse(r.canary)))) : last.canary,
            baseline: group.length > 1 ? JSON.stringify(mergeTrafficStats(group.map(r => JSON.parse(r.baseline)))) : last.baseline,
            verdict: last.verdict,
          };
        });
        await tx('release_samples').where({ release_id: releaseId }).delete();
        for (let i = 0; i < merged.length; i += 500) await tx('release_samples').insert(merged.slice(i, i + 500));
      }
      // The judge's state (about 10 KB) serves only while the release runs; its verdicts and timeline stay.
      await tx('releases').where({ id: releaseId }).update({ samples_compacted_at: now.toISOString(), judge_state: null });
      return { before: rows.length, after: groups.size };
    });
  }

  /** Rows per table, and on PostgreSQL their size on disk in bytes (the scale page's table sizes). */
  async tableSizes(): Promise<Record<string, { rows: number; bytes?: number }>> {
    const sizes: Record<string, { rows: number; bytes?: number }> = {};
    const postgres = isPostgres(this.db);
    for (const table of ['releases', 'release_events', 'release_samples', 'release_steps', 'release_outbox']) {
      const [{ n }] = await this.db(table).count({ n: '*' });
      sizes[table] = { rows: Number(n) };
      if (postgres) {
        const result = await this.db.raw('select pg_total_relation_size(?) as bytes', [table]);
        sizes[table].bytes = Number(result.rows[0].bytes);
      }
    }
    return sizes;
  }
}
