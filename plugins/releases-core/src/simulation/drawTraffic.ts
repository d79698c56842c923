import { DEFAULT_LATENCY_BOUNDS_MS, TrafficStats } from '@release-pilot/plugin-releases-common';
import { normalCdf } from '../math/normal';
import { SeededRandom } from './random';

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
