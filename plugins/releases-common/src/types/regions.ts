import { ReleaseState } from './states';

/**
 * A release across regions (or clusters): the target names regions, each with its own router,
 * metric provider and deployer; each region runs a release of its own, in waves.
 */

/** The waves of a region release, with the reason for each region's place. Persisted with the release. */
export interface WavePlan {
  waves: string[][];
  bakeSeconds: number;
  /** Why each region is where it is, in release order. */
  order: Array<{ region: string; reason: string }>;
}

/** What happens to the other regions when one fails. */
export type RegionFailurePolicy =
  /** Every region already on the new version is rolled back too: no skew (the default). */
  | 'rollbackAll'
  /** The promoted regions keep the new version; a person resumes the rest or rolls back everywhere. */
  | 'hold';

export type RegionRolloutState = 'running' | 'baking' | 'holding' | 'rolling_back' | 'succeeded' | 'rolled_back';

/** One region's part, as the coordinator knows it. */
export interface RegionStatus {
  region: string;
  /** Index into the plan's waves. */
  wave: number;
  /** `waiting` until its wave starts, then its release's state. */
  state: 'waiting' | ReleaseState;
  releaseId?: string;
  /** The canary weight its router holds. */
  weight: number;
  /** The latest verdict's summary, or why it ended. */
  verdict?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** A release across regions: its waves, where it stands, and every region's part. */
export interface RegionRollout {
  plan: WavePlan;
  failurePolicy: RegionFailurePolicy;
  state: RegionRolloutState;
  /** The wave in progress (or the last one). */
  wave: number;
  /** When the current wave's last region succeeded (the bake before the next wave counts from here). */
  waveSucceededAt?: string;
  regions: Record<string, RegionStatus>;
  /** The region whose failure halted the release, and why. */
  failedRegion?: string;
  reason?: string;
  /** Failed regions a person chose to leave on the previous version when resuming the rest. */
  skipped?: string[];
}

