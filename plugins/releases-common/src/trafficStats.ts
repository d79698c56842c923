import { normalCdf } from './normal';
import { SeededRandom } from './random';
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

/** How a version of a service behaves: its error rate and its (lognormal) latency distribution. */
export interface BehaviourProfile {
  errorRate: number;
  latencyMs: { p50: number; p95: number };
  /** Named count metrics: the chance that a request produces one event (an order placed, ...). */
  counters?: Record<string, number>;
}

const Z95 = 1.6448536269514722;
const bucketCache = new WeakMap<BehaviourProfile, number[]>();

/** P(latency in bucket i) of a profile's lognormal over the default buckets (the last is overflow). */
function bucketProbabilities(profile: BehaviourProfile): number[] {
  const cached = bucketCache.get(profile);
  if (cached) return cached;
  const median = profile.latencyMs.p50;
  const sigma = Math.log(profile.latencyMs.p95 / median) / Z95;
  const cdf = (ms: number) => normalCdf(Math.log(ms / median) / sigma);
  const bounds = DEFAULT_LATENCY_BOUNDS_MS;
  const probabilities = bounds.map((bound, i) => cdf(bound) - (i === 0 ? 0 : cdf(bounds[i - 1])));
  probabilities.push(1 - cdf(bounds[bounds.length - 1]));
  bucketCache.set(profile, probabilities);
  return probabilities;
}

/**
 * Adds `requests` simulated requests of a profile to `stats`: binomial errors, and a latency
 * histogram drawn as a multinomial over the lognormal's buckets (each bucket a binomial of what is
 * left) instead of one latency per request.
 */
export function drawTraffic(
  random: SeededRandom,
  stats: TrafficStats,
  requests: number,
  profile: BehaviourProfile,
): void {
  stats.requests += requests;
  stats.errors += random.binomial(requests, profile.errorRate);
  for (const [name, p] of Object.entries(profile.counters ?? {})) {
    stats.counters = { ...stats.counters, [name]: (stats.counters?.[name] ?? 0) + random.binomial(requests, p) };
  }
  const probabilities = bucketProbabilities(profile);
  let left = requests;
  let mass = 1;
  for (let i = 0; i < probabilities.length && left > 0; i++) {
    const p = mass > 0 ? Math.min(1, probabilities[i] / mass) : 1;
    const count = i === probabilities.length - 1 ? left : random.binomial(left, p);
    stats.latency.counts[i] += count;
    left -= count;
    mass -= probabilities[i];
  }
}
