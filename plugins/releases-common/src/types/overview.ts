import { Release } from './release';

/** DORA figures of a team over a period, from its releases. */
export interface DoraFigures {
  /** Releases that succeeded, per day. */
  deploymentsPerDay: number;
  /** Rolled-back or failed releases out of all finished ones (0-1), or undefined without any. */
  changeFailureRate?: number;
  /** Median seconds from a bad release's first traffic to the service back at its pre-release level (its canary at weight 0 where not measured). */
  medianTimeToRestoreSeconds?: number;
  /** Median seconds from the commit (release metadata `commitTime`) to the release's success. */
  medianLeadTimeSeconds?: number;
  /** Median seconds from a bad release's first traffic to the rollback decision. */
  medianDetectionSeconds?: number;
  /** Median seconds from the rollback decision to the canary at weight 0. */
  medianRollbackSeconds?: number;
  finished: number;
  succeeded: number;
  rolledBack: number;
}

/** One day of a team's releases, for the overview's charts. */
export interface TeamDay {
  /** The day, `YYYY-MM-DD` (UTC). */
  day: string;
  succeeded: number;
  rolledBack: number;
  /** Mean predicted risk (0-1) of the day's releases, when any had one. */
  meanRisk?: number;
}

/** A team's releases: every entity owned by the group and its child groups. */
export interface TeamOverview {
  group: string;
  /** The group and its descendants whose releases are counted. */
  groups: string[];
  from: string;
  to: string;
  active: Release[];
  history: Release[];
  dora: DoraFigures;
  days: TeamDay[];
}
