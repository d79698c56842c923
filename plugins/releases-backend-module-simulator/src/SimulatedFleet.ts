import {
  DEFAULT_LATENCY_BOUNDS_MS,
  emptyTrafficStats,
  MetricSample,
  normalCdf,
  SeededRandom,
  TrafficStats,
} from '@release-pilot/plugin-releases-common';
import {
  MetricProvider,
  ReleaseTargetContext,
  TrafficRouter,
} from '@release-pilot/plugin-releases-node';

/** How one version of a service behaves: its error rate and latency distribution. */
export interface BehaviourProfile {
  errorRate: number;
  latencyMs: { p50: number; p95: number };
}

/** A fault profile applied to canary versions whose name matches `versionPattern`. */
export interface FaultProfile extends BehaviourProfile {
  versionPattern: RegExp;
}

/** Settings of the simulated fleet. */
export interface SimulatedFleetOptions {
  seed: number;
  /** Requests per second of the whole service. */
  rps: number;
  baseline: BehaviourProfile;
  faults: FaultProfile[];
}

/** The healthy service of the demo: 2,000 requests/s, 0.02% errors, p50 90 ms, p95 145 ms. */
export const DEFAULT_BASELINE: BehaviourProfile = {
  errorRate: 0.0002,
  latencyMs: { p50: 90, p95: 145 },
};

/** The fault of the checkout incident: 0.18% errors and p95 2,840 ms, for versions ending in `-faulty`. */
export const CHECKOUT_INCIDENT_FAULT: FaultProfile = {
  versionPattern: /-faulty$/,
  errorRate: 0.0018,
  latencyMs: { p50: 900, p95: 2840 },
};

const Z95 = 1.6448536269514722;

/**
 * A statistically simulated fleet that is both traffic router and metric provider. Each second it
 * draws the service's requests (Poisson), splits them by the canary weight (binomial), draws errors
 * (binomial) and lognormal latencies per request into a histogram. Every second's draws depend only
 * on (seed, entity, version, second), so a sample is the same however the interval is cut.
 */
export class SimulatedFleet implements TrafficRouter, MetricProvider {
  readonly #weights = new Map<string, number>();

  constructor(private readonly options: SimulatedFleetOptions) {}

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    if (!(weight >= 0 && weight <= 100)) {
      throw new Error(`Canary weight must be within 0 and 100, got ${weight}`);
    }
    this.#weights.set(context.entityRef, weight);
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    return this.#weights.get(context.entityRef) ?? 0;
  }

  /** The profile a canary version runs with: the first matching fault, or the baseline's. */
  profileOf(version: string): BehaviourProfile {
    return this.options.faults.find(f => f.versionPattern.test(version)) ?? this.options.baseline;
  }

  async getSample(
    context: ReleaseTargetContext,
    interval: { from: Date; to: Date },
  ): Promise<MetricSample> {
    const weight = this.#weights.get(context.entityRef) ?? 0;
    return this.simulate(context, interval, weight);
  }

  /** Simulates the whole seconds that start within `[from, to)` at a fixed canary weight. */
  simulate(
    context: ReleaseTargetContext,
    interval: { from: Date; to: Date },
    weight: number,
  ): MetricSample {
    const canary = emptyTrafficStats();
    const baseline = emptyTrafficStats();
    const canaryProfile = this.profileOf(context.version);
    const firstSecond = Math.ceil(interval.from.getTime() / 1000);
    const endSecond = Math.ceil(interval.to.getTime() / 1000);
    for (let second = firstSecond; second < endSecond; second++) {
      const random = SeededRandom.fromKey(
        `${this.options.seed}|${context.entityRef}|${context.version}|${second}`,
      );
      const total = random.poisson(this.options.rps);
      const canaryRequests = random.binomial(total, weight / 100);
      this.serve(random, canary, canaryRequests, canaryProfile);
      this.serve(random, baseline, total - canaryRequests, this.options.baseline);
    }
    return {
      from: interval.from.toISOString(),
      to: interval.to.toISOString(),
      canary,
      baseline,
    };
  }

  private serve(
    random: SeededRandom,
    stats: TrafficStats,
    requests: number,
    profile: BehaviourProfile,
  ) {
    stats.requests += requests;
    stats.errors += random.binomial(requests, profile.errorRate);
    // The latency histogram is multinomial over the buckets of the lognormal: draw each bucket's
    // count as a binomial of what is left, instead of one latency per request.
    const probabilities = this.bucketProbabilities(profile);
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

  private readonly bucketCache = new Map<BehaviourProfile, number[]>();

  /** P(latency in bucket i) for a profile's lognormal, cached per profile. */
  private bucketProbabilities(profile: BehaviourProfile): number[] {
    const cached = this.bucketCache.get(profile);
    if (cached) return cached;
    const median = profile.latencyMs.p50;
    const sigma = Math.log(profile.latencyMs.p95 / median) / Z95;
    const cdf = (ms: number) => normalCdf(Math.log(ms / median) / sigma);
    const bounds = DEFAULT_LATENCY_BOUNDS_MS;
    const probabilities = bounds.map((bound, i) => cdf(bound) - (i === 0 ? 0 : cdf(bounds[i - 1])));
    probabilities.push(1 - cdf(bounds[bounds.length - 1]));
    this.bucketCache.set(profile, probabilities);
    return probabilities;
  }
}
