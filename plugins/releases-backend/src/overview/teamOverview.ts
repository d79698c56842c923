import {
  DoraFigures,
  isActiveRelease,
  Release,
  TeamDay,
  TeamOverview,
  TimelineEventType,
} from '@release-pilot/plugin-releases-common';

/** The timeline moments the figures need, per release. */
export type ReleaseMoments = Partial<Record<TimelineEventType, string>>;

/** The timeline types `teamOverview` reads. */
export const OVERVIEW_EVENT_TYPES: TimelineEventType[] = ['started', 'rollback_started', 'traffic_restored', 'recovered', 'rolled_back'];

const DAY_MS = 86_400_000;

function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const value = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

const defined = (values: Array<number | undefined>) => values.filter((v): v is number => v !== undefined);

/**
 * DORA figures of a set of releases over `[from, to)`: deployment frequency (successes per day),
 * change failure rate (rolled back or failed out of finished), time to restore (first traffic to
 * the service back at its pre-release level, or the canary at weight 0 where that was not measured), lead time (metadata `commitTime` to success), and the detection and
 * rollback times that make up the time to restore.
 */
export function doraFigures(releases: Release[], moments: Map<string, ReleaseMoments>, from: Date, to: Date): DoraFigures {
  const finished = releases.filter(r => !isActiveRelease(r.state));
  const succeeded = finished.filter(r => r.state === 'succeeded');
  const bad = finished.filter(r => r.state === 'rolled_back' || r.state === 'failed');
  const rolledBack = bad.filter(r => r.state === 'rolled_back');
  const days = Math.max(1, (to.getTime() - from.getTime()) / DAY_MS);
  const at = (r: Release) => moments.get(r.id) ?? {};
  return {
    deploymentsPerDay: succeeded.length / days,
    changeFailureRate: finished.length ? bad.length / finished.length : undefined,
    // Restored: the service measured back at its pre-release level; where not measured, the canary at weight 0.
    medianTimeToRestoreSeconds: median(defined(rolledBack.map(r => seconds(at(r).started, at(r).recovered ?? at(r).rolled_back)))),
    medianDetectionSeconds: median(defined(rolledBack.map(r => seconds(at(r).started, at(r).rollback_started)))),
    medianRollbackSeconds: median(defined(rolledBack.map(r => seconds(at(r).rollback_started, at(r).traffic_restored ?? at(r).rolled_back)))),
    medianLeadTimeSeconds: median(
      defined(succeeded.map(r => (typeof r.metadata.commitTime === 'string' ? seconds(r.metadata.commitTime, r.finishedAt) : undefined))),
    ),
    finished: finished.length,
    succeeded: succeeded.length,
    rolledBack: bad.length,
  };
}

/** One entry per UTC day of `[from, to)`: successes, rollbacks and the mean predicted risk of the releases created that day. */
export function teamDays(releases: Release[], from: Date, to: Date): TeamDay[] {
  const days = new Map<string, { succeeded: number; rolledBack: number; risks: number[] }>();
  for (let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); t < to.getTime(); t += DAY_MS) {
    days.set(new Date(t).toISOString().slice(0, 10), { succeeded: 0, rolledBack: 0, risks: [] });
  }
  for (const release of releases) {
    const day = days.get(release.createdAt.slice(0, 10));
    if (!day) continue;
    if (release.state === 'succeeded') day.succeeded++;
    if (release.state === 'rolled_back' || release.state === 'failed') day.rolledBack++;
    if (release.risk) day.risks.push(release.risk.probability);
  }
  return [...days].map(([day, d]) => ({
    day,
    succeeded: d.succeeded,
    rolledBack: d.rolledBack,
    meanRisk: d.risks.length ? d.risks.reduce((a, b) => a + b, 0) / d.risks.length : undefined,
  }));
}

/** A team's overview from its releases of the period (newest first). */
export function teamOverview(input: {
  group: string;
  groups: string[];
  from: Date;
  to: Date;
  releases: Release[];
  moments: Map<string, ReleaseMoments>;
  historyLimit?: number;
}): TeamOverview {
  const { releases, from, to } = input;
  return {
    group: input.group,
    groups: input.groups,
    from: from.toISOString(),
    to: to.toISOString(),
    active: releases.filter(r => isActiveRelease(r.state)),
    history: releases.filter(r => !isActiveRelease(r.state)).slice(0, input.historyLimit ?? 100),
    dora: doraFigures(releases, input.moments, from, to),
    days: teamDays(releases, from, to),
  };
}
