import { HistoryBucket } from '@release-pilot/plugin-releases-common';
import { MetricProvider, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';

/** How long a traffic read may take before the caller goes on without it. */
const TRAFFIC_TIMEOUT_MS = 3000;

/**
 * A service's traffic from its metric provider: requests per second over the last minute, and its
 * history over `history`. Undefined when the provider keeps no history, fails, or takes more than
 * 3 s: traffic only informs a decision (the risk, the order of regions), it never blocks one.
 */
export async function readTraffic(
  provider: MetricProvider,
  context: ReleaseTargetContext,
  now: Date,
  history: { from: Date; to: Date; bucketSeconds: number },
): Promise<{ rps: number; history: HistoryBucket[] } | undefined> {
  if (!provider.getHistory) return undefined;
  const work = Promise.all([provider.getSample(context, { from: new Date(now.getTime() - 60_000), to: now }), provider.getHistory(context, history)]).then(
    ([sample, buckets]) => ({ rps: (sample.canary.requests + sample.baseline.requests) / 60, history: buckets }),
  );
  const timeout = new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), TRAFFIC_TIMEOUT_MS).unref());
  return Promise.race([work.catch(() => undefined), timeout]);
}

/** A history bucket's requests per second. */
export function bucketRps(bucket: HistoryBucket): number {
  return bucket.stats.requests / ((Date.parse(bucket.to) - Date.parse(bucket.from)) / 1000);
}
