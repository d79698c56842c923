import { emptyTrafficStats, HistoryBucket, MetricSample } from '@release-pilot/plugin-releases-common';
import { BehaviourProfile, drawTraffic, SeededRandom } from '@release-pilot/plugin-releases-core';
import {
  FencingTokens,
  MetricProvider,
  ReleaseTargetContext,
  TrafficRouter,
} from '@release-pilot/plugin-releases-node';
import { SimulatedDeployer, SimulatedDeployerOptions } from './SimulatedDeployer';

/** A fault profile applied to canary versions whose name matches `versionPattern`. */
export interface FaultProfile extends BehaviourProfile {
  versionPattern: RegExp;
  /** The fault shows only while the canary takes at least this share (100: only under the full load). */
  minWeight?: number;
  /** The fault shows only in the canary's first seconds of traffic: a cold start, which passes. */
  firstSeconds?: number;
}

/**
 * A router outage that begins when a rollback starts: the simulated router refuses every weight
 * change of a canary whose version matches, from its first request to take the canary's traffic
 * away (weight 0) until `seconds` later. It shows what a rollback the router refuses looks like.
 */
export interface RouterOutage {
  versionPattern: RegExp;
  seconds: number;
}

/** Settings of the simulated fleet. */
export interface SimulatedFleetOptions {
  seed: number;
  /** Requests per second of the whole service, on daily average. */
  rps: number;
  /** Daily seasonality of the traffic: 0.5 swings it between 50 % and 150 % of `rps`. Default 0. */
  dailyAmplitude?: number;
  /** The busiest hour of the day (UTC). Default 15. */
  peakHourUtc?: number;
  baseline: BehaviourProfile;
  faults: FaultProfile[];
  routerOutages?: RouterOutage[];
  /** The clock of router outages (virtual in tests). Default: the system clock. */
  now?: () => number;
  /** The simulated deployer's timings and failures (the module builds it from these). */
  deployer?: SimulatedDeployerOptions;
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

/**
 * A statistically simulated fleet that is both traffic router and metric provider. Each second it
 * draws the service's requests (Poisson), splits them by the canary weight (binomial), draws errors
 * (binomial) and lognormal latencies per request into a histogram. Every second's draws depend only
 * on (seed, entity, version, second), so a sample is the same however the interval is cut.
 */
export class SimulatedFleet implements TrafficRouter, MetricProvider {
  readonly #weights = new Map<string, number>();
  readonly #fencing = new FencingTokens();
  /** When the router outage of each release began. */
  readonly #outageSince = new Map<string, number>();
  /** The first second each release's canary took traffic (for cold starts). */
  readonly #firstTraffic = new Map<string, number>();

  /** With a deployer, each side behaves like the version it really runs; without, the canary like the release's version. */
  constructor(
    private readonly options: SimulatedFleetOptions,
    private readonly deployer?: SimulatedDeployer,
  ) {}

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    if (!(weight >= 0 && weight <= 100)) {
      throw new Error(`Canary weight must be within 0 and 100, got ${weight}`);
    }
    this.refuseDuringOutage(context, weight);
    this.#fencing.admit(context);
    this.#weights.set(context.entityRef, weight);
    if (weight > 0 && !this.#firstTraffic.has(context.releaseId)) {
      this.#firstTraffic.set(context.releaseId, Math.floor((this.options.now?.() ?? Date.now()) / 1000));
    }
  }

  private refuseDuringOutage(context: ReleaseTargetContext, weight: number) {
    const outage = this.options.routerOutages?.find(o => o.versionPattern.test(context.version));
    if (!outage) return;
    const now = this.options.now?.() ?? Date.now();
    if (weight === 0 && !this.#outageSince.has(context.releaseId)) this.#outageSince.set(context.releaseId, now);
    const since = this.#outageSince.get(context.releaseId);
    if (since !== undefined && now < since + outage.seconds * 1000) {
      throw new Error(`simulated router outage: unreachable for ${outage.seconds} s from ${new Date(since).toISOString()}`);
    }
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    return this.#weights.get(context.entityRef) ?? 0;
  }

  /**
   * The profile a canary version runs with at a weight, `age` seconds after it first took traffic:
   * the first matching fault, or the baseline's.
   */
  profileOf(version: string, weight = 100, age = Infinity): BehaviourProfile {
    return (
      this.options.faults.find(
        f =>
          f.versionPattern.test(version) &&
          weight >= (f.minWeight ?? 0) &&
          (f.firstSeconds === undefined || age < f.firstSeconds),
      ) ?? this.options.baseline
    );
  }

  /** The service's requests per second at a moment: the daily average times the time of day's swing. */
  rpsAt(epochSeconds: number): number {
    const amplitude = this.options.dailyAmplitude ?? 0;
    const hours = (epochSeconds / 3600) % 24;
    const peak = this.options.peakHourUtc ?? 15;
    return this.options.rps * (1 + amplitude * Math.cos((2 * Math.PI * (hours - peak)) / 24));
  }

  /** The stable version's history (the whole service, before any release) in buckets. */
  async getHistory(
    context: ReleaseTargetContext,
    range: { from: Date; to: Date; bucketSeconds: number },
  ): Promise<HistoryBucket[]> {
    const buckets: HistoryBucket[] = [];
    const step = range.bucketSeconds;
    const first = Math.ceil(range.from.getTime() / 1000 / step) * step;
    for (let start = first; start + step <= range.to.getTime() / 1000; start += step) {
      const random = SeededRandom.fromKey(`${this.options.seed}|${context.entityRef}|history|${start}`);
      const stats = emptyTrafficStats();
      drawTraffic(random, stats, random.poisson(this.rpsAt(start + step / 2) * step), this.options.baseline);
      buckets.push({
        from: new Date(start * 1000).toISOString(),
        to: new Date((start + step) * 1000).toISOString(),
        stats,
      });
    }
    return buckets;
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
    const firstTraffic = this.#firstTraffic.get(context.releaseId) ?? -Infinity;
    const serving = this.deployer?.serving(context.entityRef);
    const canaryVersion = serving ? serving.canary : context.version;
    // Requests routed to a canary that does not run or is not ready fail (a 503 from the load balancer).
    const unavailable: BehaviourProfile = { ...this.options.baseline, errorRate: 1 };
    const stableProfile = serving?.stable ? this.profileOf(serving.stable) : this.options.baseline;
    const firstSecond = Math.ceil(interval.from.getTime() / 1000);
    const endSecond = Math.ceil(interval.to.getTime() / 1000);
    for (let second = firstSecond; second < endSecond; second++) {
      const canaryProfile =
        canaryVersion === undefined || (serving && !serving.canaryReady)
          ? unavailable
          : this.profileOf(canaryVersion, weight, second - firstTraffic);
      const random = SeededRandom.fromKey(
        `${this.options.seed}|${context.entityRef}|${context.version}|${second}`,
      );
      const total = random.poisson(this.rpsAt(second));
      const canaryRequests = random.binomial(total, weight / 100);
      drawTraffic(random, canary, canaryRequests, canaryProfile);
      drawTraffic(random, baseline, total - canaryRequests, stableProfile);
    }
    return {
      from: interval.from.toISOString(),
      to: interval.to.toISOString(),
      canary,
      baseline,
    };
  }
}
