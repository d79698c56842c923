import {
  HistoryBucket,
  mergeTrafficStats,
  ServiceLevel,
  StoredSample,
} from '@release-pilot/plugin-releases-common';
import { WatchJudge } from '../watch/WatchJudge';

/** What the recovery check needs of the post-release watch. */
export type RecoveryWatch = Pick<WatchJudge, 'usualLevel' | 'levelOf' | 'atLevel'>;

/**
 * The level a rolled-back service must come back to: what the watch's model of its history
 * expects at `at` (the same time of day, the recent level), or, when the target gives no usable
 * history, the stable side's traffic during the release before the rollback decision (`before`,
 * the version the rollback returns to). Undefined when neither says anything.
 */
export function recoveryLevel(
  watch: RecoveryWatch,
  input: { history?: HistoryBucket[]; before?: StoredSample[]; at: Date },
): ServiceLevel | undefined {
  const fromHistory = input.history?.length ? watch.usualLevel(input.history, input.at) : undefined;
  if (fromHistory) return fromHistory;
  const stable = (input.before ?? []).filter(s => s.canaryWeight < 100).map(s => s.baseline);
  return watch.levelOf(mergeTrafficStats(stable));
}
