import { LatencyHistogram, TrafficStats } from './types';

/** Latency bucket bounds (ms) used by the simulator and expected from providers that have no own buckets. */
export const DEFAULT_LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000,
  1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000,
];

/** Empty statistics with the given bucket bounds. */
export function emptyTrafficStats(
  boundsMs: readonly number[] = DEFAULT_LATENCY_BOUNDS_MS,
): TrafficStats {
  return {
    requests: 0,
    errors: 0,
    latency: {
      boundsMs: [...boundsMs],
      counts: new Array(boundsMs.length + 1).fill(0),
    },
  };
}

const hasLatency = (stats: TrafficStats) => stats.latency.counts.some(count => count > 0);

/**
 * Sums statistics of consecutive intervals. Histograms with counts must share bucket bounds; an
 * empty histogram (an interval a provider saw no latency data in) adds nothing, whatever its bounds.
 */
export function mergeTrafficStats(parts: TrafficStats[]): TrafficStats {
  if (parts.length === 0) return emptyTrafficStats();
  const merged = emptyTrafficStats((parts.find(hasLatency) ?? parts[0]).latency.boundsMs);
  for (const part of parts) {
    if (hasLatency(part) && part.latency.counts.length !== merged.latency.counts.length) {
      throw new Error('Cannot merge latency histograms with different buckets');
    }
    merged.requests += part.requests;
    merged.errors += part.errors;
    for (const [name, count] of Object.entries(part.counters ?? {})) {
      merged.counters = { ...merged.counters, [name]: (merged.counters?.[name] ?? 0) + count };
    }
    if (!hasLatency(part)) continue;
    part.latency.counts.forEach((count, i) => {
      merged.latency.counts[i] += count;
    });
  }
  return merged;
}

/** Errors per request, or NaN without requests. */
export function errorRate(stats: TrafficStats): number {
  return stats.requests > 0 ? stats.errors / stats.requests : NaN;
}

/**
 * The q-quantile of a histogram, interpolated linearly inside the bucket as Prometheus'
 * `histogram_quantile` does; NaN for an empty histogram. A quantile in the overflow bucket
 * reports the highest bound.
 */
export function histogramQuantile(
  histogram: LatencyHistogram,
  q: number,
): number {
  const total = histogram.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.counts.length; i++) {
    const count = histogram.counts[i];
    if (seen + count >= rank && count > 0) {
      if (i >= histogram.boundsMs.length) {
        return histogram.boundsMs[histogram.boundsMs.length - 1];
      }
      const lower = i === 0 ? 0 : histogram.boundsMs[i - 1];
      const upper = histogram.boundsMs[i];
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return histogram.boundsMs[histogram.boundsMs.length - 1];
}
