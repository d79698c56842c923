import { TrafficStats } from '@release-pilot/plugin-releases-common';

/**
 * A latency histogram from cumulative bucket counts keyed by their upper bound ("0.1", ..., "+Inf";
 * Prometheus' `le`, Datadog's `upper_bound`): the per-bucket counts the judges expect, in
 * milliseconds. Counts are clamped at zero where scrapes of different buckets disagree.
 */
export function histogramFromBuckets(
  cumulative: Map<string, number>,
  unit: 'seconds' | 'milliseconds',
): TrafficStats['latency'] | undefined {
  const buckets = [...cumulative.entries()]
    .map(([le, count]) => ({ le: /^\+?inf$/i.test(le) ? Infinity : Number(le), count }))
    .filter(b => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  if (buckets.length === 0) return undefined;
  const finite = buckets.filter(b => Number.isFinite(b.le));
  const inf = buckets.find(b => !Number.isFinite(b.le));
  const scale = unit === 'seconds' ? 1000 : 1;
  const counts: number[] = [];
  let below = 0;
  for (const b of finite) {
    counts.push(Math.max(0, Math.round(b.count - below)));
    below = Math.max(below, b.count);
  }
  counts.push(inf ? Math.max(0, Math.round(inf.count - below)) : 0);
  return { boundsMs: finite.map(b => b.le * scale), counts };
}
