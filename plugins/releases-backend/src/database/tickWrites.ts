/**
 * The writes of a tick that only measured, the common one: its sample row, and on PostgreSQL its
 * save batched with the others of its moment (`ReleasesStore` decides which saves qualify).
 */
import { ConflictError } from '@backstage/errors';
import { isActiveRelease, Release, StoredSample } from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';
import { toRow } from './rows';

/** The error of a save whose release changed since it was read, or whose lease another replica holds now. */
export function staleSaveError(id: string, leaseOwner?: string): ConflictError {
  return new ConflictError(
    leaseOwner ? `Release ${id} was changed concurrently or is driven by another replica now` : `Release ${id} was changed concurrently; reload and try again`,
  );
}

/** A save that changes no step, no state's activity, no timeline and no message: a tick that only measured. */
export interface PlainSave {
  previous: Release;
  next: Release;
  leaseOwner?: string;
  /** Whether it writes the judge's state too (`ReleasesStore` decides); without, the stored one stays. */
  withState: boolean;
}

/** The judge state's columns, written by a plain save only when it says so (`withState`). */
const STATE_COLUMNS = ['judge_state', 'judge_state_at'];

/** Fields of a release a tick normally leaves as they were (the same object), with their columns. */
const UNCHANGED_BY_A_TICK: Array<[keyof Release, string[]]> = [
  ['plan', ['plan']],
  ['metadata', ['metadata']],
  ['annotations', ['target_annotations']],
  ['risk', ['risk', 'risk_probability']],
  ['rollout', ['rollout']],
];

export function isPlainTick(previous: Release, next: Release): boolean {
  return (
    previous.state === next.state &&
    isActiveRelease(next.state) &&
    previous.stepStartedAt === next.stepStartedAt &&
    previous.currentStep === next.currentStep &&
    previous.canaryWeight === next.canaryWeight
  );
}

export function sampleRow(releaseId: string, sample: StoredSample) {
  const verdict = sample.verdict && { at: sample.verdict.at, kind: sample.verdict.kind, outcome: sample.verdict.outcome, summary: sample.verdict.summary, evidence: [] };
  return {
    release_id: releaseId,
    at: sample.at,
    step_index: sample.stepIndex,
    canary_weight: sample.canaryWeight,
    canary: JSON.stringify(sample.canary),
    baseline: JSON.stringify(sample.baseline),
    verdict: verdict ? JSON.stringify(verdict) : null,
  };
}

/**
 * Plain ticks' saves in one statement (PostgreSQL): each row is updated only at the revision its
 * tick read and, for a lease holder's save, only while it holds the lease; the others fail as
 * `saveRelease` fails, with a ConflictError of their own.
 */
export async function writePlainSaves(db: Knex, saves: PlainSave[]): Promise<Array<Error | undefined>> {
  // A save without the judge's state does not even stringify it (about 10 KB).
  const rows = saves.map(save => toRow(save.withState ? save.next : { ...save.next, judgeState: undefined }));
  // Large columns a tick does not change are not written again (PostgreSQL would store them anew).
  const unchanged = UNCHANGED_BY_A_TICK.filter(([field]) => saves.every(save => save.previous[field] === save.next[field])).flatMap(([, columns]) => columns);
  if (saves.every(save => !save.withState)) unchanged.push(...STATE_COLUMNS);
  const columns = Object.keys(rows[0]).filter(c => c !== 'id' && !unchanged.includes(c));
  // Per row: the state's columns from the save that writes them, kept as they are for the others.
  const assign = (c: string) => (STATE_COLUMNS.includes(c) ? `"${c}" = case when c.with_state then v."${c}" else r."${c}" end` : `"${c}" = v."${c}"`);
  const checks = saves.map(save => ({ id: save.previous.id, previous_revision: save.previous.revision, owner: save.leaseOwner ?? null, with_state: save.withState }));
  const result = await db.raw(
    `update releases as r set ${columns.map(assign).join(', ')}
     from json_populate_recordset(null::releases, ?::json) as v
     join json_to_recordset(?::json) as c(id varchar, previous_revision integer, owner varchar, with_state boolean) on c.id = v.id
     where r.id = v.id and r.revision = c.previous_revision and (c.owner is null or r.lease_owner = c.owner)
     returning r.id`,
    [JSON.stringify(rows), JSON.stringify(checks)],
  );
  const updated = new Set((result.rows as Array<{ id: string }>).map(row => row.id));
  return saves.map(save => (updated.has(save.previous.id) ? undefined : staleSaveError(save.previous.id, save.leaseOwner)));
}
