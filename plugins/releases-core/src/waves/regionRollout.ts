import { isActiveRelease, RegionFailurePolicy, RegionRollout, RegionStatus, ReleaseState, TimelineEventType, WavePlan } from '@release-pilot/plugin-releases-common';

export type { RegionFailurePolicy, RegionRollout, RegionRolloutState, RegionStatus } from '@release-pilot/plugin-releases-common';

/**
 * The coordinator of a release across regions, a pure state machine like the engine: each region
 * runs a release of its own (its own steps, judge and watch against its own baseline); this decides
 * when a wave starts, and what a failing region means for the others. It does no I/O: the driver
 * starts and rolls back the regions' releases it asks for, and feeds their states back.
 */

/** What a region's release reports on each tick. */
export interface RegionReport {
  state: ReleaseState;
  weight: number;
  verdict?: string;
  releaseId?: string;
}

/** What can happen to a region release. */
export type RolloutEvent =
  /** A tick: every started region's release as it stands now. */
  | { type: 'tick'; reports: Record<string, RegionReport> }
  /** A person decides on a held release: go on with the rest, or roll back everywhere. */
  | { type: 'user'; action: 'resume' | 'rollback'; actor: string };

/** What the driver must do: start a region's release, or roll one back (also one that succeeded). */
export type RolloutAction = { type: 'startRegion'; region: string } | { type: 'rollbackRegion'; region: string; reason: string };

/** A timeline record of the release across regions (the types its owners hear about, as for any release). */
export interface RolloutRecord {
  type: Extract<TimelineEventType, 'wave_started' | 'region_failed' | 'paused' | 'rollback_started' | 'succeeded' | 'rolled_back' | 'resumed'>;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface RolloutResult {
  rollout: RegionRollout;
  actions: RolloutAction[];
  records: RolloutRecord[];
}

const COORDINATOR = 'release-pilot';
const FAILED: ReadonlyArray<RegionStatus['state']> = ['rolled_back', 'failed'];

/** A new region release: nothing started yet; the first `tick` starts wave 1. */
export function newRegionRollout(plan: WavePlan, failurePolicy: RegionFailurePolicy): RegionRollout {
  const regions: Record<string, RegionStatus> = {};
  plan.waves.forEach((wave, index) => wave.forEach(region => (regions[region] = { region, wave: index, state: 'waiting', weight: 0 })));
  return { plan, failurePolicy, state: 'running', wave: -1, regions };
}

function startWave(rollout: RegionRollout, wave: number, now: Date): RolloutResult {
  const names = rollout.plan.waves[wave];
  const regions = { ...rollout.regions };
  for (const region of names) regions[region] = { ...regions[region], state: 'pending', startedAt: now.toISOString() };
  return {
    rollout: { ...rollout, state: 'running', wave, waveSucceededAt: undefined, regions },
    actions: names.map(region => ({ type: 'startRegion', region })),
    records: [
      {
        type: 'wave_started',
        actor: COORDINATOR,
        message: `Wave ${wave + 1} of ${rollout.plan.waves.length}: ${names.join(', ')}`,
        data: { wave: wave + 1, regions: names },
      },
    ],
  };
}

/** Every region that runs the new version or is on its way to it: each is rolled back. */
function rollBackEverywhere(rollout: RegionRollout, actor: string, why: string): RolloutResult {
  const targets = Object.values(rollout.regions).filter(r => r.state !== 'waiting' && !FAILED.includes(r.state) && r.state !== 'rolling_back');
  // Nothing left to roll back (no region started, or every started one already back): done at once.
  const done = targets.length === 0 && Object.values(rollout.regions).every(r => r.state === 'waiting' || FAILED.includes(r.state));
  return {
    rollout: { ...rollout, state: done ? 'rolled_back' : 'rolling_back' },
    actions: targets.map(r => ({ type: 'rollbackRegion', region: r.region, reason: why })),
    records: [
      {
        type: done ? 'rolled_back' : 'rollback_started',
        actor,
        message: targets.length
          ? `Rolling back ${targets.map(r => r.region).join(', ')} so that every region runs the same version: ${why}`
          : `No other region runs the new version: ${why}`,
        data: { regions: targets.map(r => r.region) },
      },
    ],
  };
}

/** The release's regions once the reports are in. */
function withReports(rollout: RegionRollout, reports: Record<string, RegionReport>, now: Date): RegionRollout {
  const regions = { ...rollout.regions };
  for (const [region, report] of Object.entries(reports)) {
    const known = regions[region];
    if (!known || known.state === 'waiting') continue;
    regions[region] = {
      ...known,
      state: report.state,
      weight: report.weight,
      verdict: report.verdict ?? known.verdict,
      releaseId: report.releaseId ?? known.releaseId,
      finishedAt: isActiveRelease(report.state) ? undefined : known.finishedAt ?? now.toISOString(),
    };
  }
  return { ...rollout, regions };
}

function onTick(previous: RegionRollout, reports: Record<string, RegionReport>, now: Date): RolloutResult {
  if (previous.wave < 0) return startWave(previous, 0, now);
  const rollout = withReports(previous, reports, now);
  const all = Object.values(rollout.regions);
  if (rollout.state === 'rolling_back') {
    // Done once no region runs the new version or is on its way to it.
    if (all.every(r => r.state === 'waiting' || FAILED.includes(r.state))) {
      return {
        rollout: { ...rollout, state: 'rolled_back' },
        actions: [],
        records: [{ type: 'rolled_back', actor: COORDINATOR, message: `Every region runs the previous version again (${rollout.failedRegion ?? 'a person'} decided it)` }],
      };
    }
    return { rollout, actions: [], records: [] };
  }
  if (rollout.state === 'holding') return { rollout, actions: [], records: [] };
  const failed = all.find(r => FAILED.includes(r.state) && !FAILED.includes(previous.regions[r.region].state));
  if (failed) {
    const why = `${failed.region} ${failed.state === 'failed' ? 'failed' : 'rolled back'}: ${failed.verdict ?? 'no reason given'}`;
    const halted: RegionRollout = { ...rollout, failedRegion: failed.region, reason: why };
    const record: RolloutRecord = { type: 'region_failed', actor: COORDINATOR, message: `${why}; no new region starts`, data: { region: failed.region } };
    if (rollout.failurePolicy === 'hold') {
      return {
        rollout: { ...halted, state: 'holding' },
        actions: [],
        records: [record, { type: 'paused', actor: COORDINATOR, message: 'Holding for a person: resume the remaining regions, or roll back everywhere' }],
      };
    }
    const rollback = rollBackEverywhere(halted, COORDINATOR, why);
    return { ...rollback, records: [record, ...rollback.records] };
  }
  const current = rollout.plan.waves[rollout.wave].map(region => rollout.regions[region]);
  if (!current.every(r => r.state === 'succeeded' || rollout.skipped?.includes(r.region))) return { rollout, actions: [], records: [] };
  if (rollout.wave === rollout.plan.waves.length - 1) {
    return {
      rollout: { ...rollout, state: 'succeeded' },
      actions: [],
      records: [{ type: 'succeeded', actor: COORDINATOR, message: `Every region runs the new version (${all.length} regions in ${rollout.plan.waves.length} waves)` }],
    };
  }
  const succeededAt = rollout.waveSucceededAt ?? now.toISOString();
  if (now.getTime() < Date.parse(succeededAt) + rollout.plan.bakeSeconds * 1000) {
    return { rollout: { ...rollout, state: 'baking', waveSucceededAt: succeededAt }, actions: [], records: [] };
  }
  return startWave(rollout, rollout.wave + 1, now);
}

/** Thrown for a user action the release's state does not allow. */
export class RolloutActionError extends Error {}

function onUser(rollout: RegionRollout, action: 'resume' | 'rollback', actor: string): RolloutResult {
  if (rollout.state !== 'holding' && !(action === 'rollback' && ['running', 'baking', 'succeeded'].includes(rollout.state))) {
    throw new RolloutActionError(`Cannot ${action} a region release that is ${rollout.state}`);
  }
  if (action === 'rollback') return rollBackEverywhere({ ...rollout, reason: `rolled back everywhere by ${actor}` }, actor, `${actor} decided to roll back everywhere`);
  // Resume: the failed regions stay on the previous version; the next wave starts once the rest of this one succeeded.
  const skipped = Object.values(rollout.regions).filter(r => FAILED.includes(r.state)).map(r => r.region);
  return {
    rollout: { ...rollout, state: 'running', skipped },
    actions: [],
    records: [{ type: 'resumed', actor, message: `${actor} resumed the remaining regions; ${skipped.join(', ')} stay${skipped.length === 1 ? 's' : ''} on the previous version` }],
  };
}

/** The next state of a region release, the actions for the driver and what to record. */
export function handleRolloutEvent(rollout: RegionRollout, event: RolloutEvent, now: Date): RolloutResult {
  if (event.type === 'user') return onUser(rollout, event.action, event.actor);
  if (rollout.state === 'succeeded' || rollout.state === 'rolled_back') return { rollout, actions: [], records: [] };
  return onTick(rollout, event.reports, now);
}

/** What each region's stable side runs: the new version where its release succeeded, else the previous one. */
export function regionVersions(rollout: RegionRollout, version: string, previousVersion: string): Record<string, string> {
  return Object.fromEntries(
    Object.values(rollout.regions).map(r => [r.region, r.state === 'succeeded' ? version : previousVersion]),
  );
}

/** How many distinct versions the regions' stable sides run, minus one: 0 is no skew. */
export function versionSkew(rollout: RegionRollout, version: string, previousVersion: string): number {
  return new Set(Object.values(regionVersions(rollout, version, previousVersion))).size - 1;
}
