/**
 * Provider interfaces a Release Pilot target implements, and the extension point that registers them.
 *
 * @packageDocumentation
 */
import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { HistoryBucket, MetricSample } from '@release-pilot/plugin-releases-common';

/** What a provider is told about the release it serves. */
export interface ReleaseTargetContext {
  entityRef: string;
  releaseId: string;
  version: string;
}

/** Shifts traffic between baseline and canary of an entity. */
export interface TrafficRouter {
  /** Sets the share of traffic (0-100 %) the canary receives. Resolves once the router applied it. */
  setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void>;
  /** The canary weight the router actually holds now. */
  getCanaryWeight(context: ReleaseTargetContext): Promise<number>;
}

/** Measures canary and baseline over an interval. */
export interface MetricProvider {
  /** Canary and baseline statistics for requests served in `[from, to)`. */
  getSample(
    context: ReleaseTargetContext,
    interval: { from: Date; to: Date },
  ): Promise<MetricSample>;
  /**
   * The whole service's traffic in `[from, to)`, cut into buckets of `bucketSeconds` (the post-release
   * watch compares the released service with its own history). Optional: without it the watch
   * has nothing to compare with and only waits out its time.
   */
  getHistory?(
    context: ReleaseTargetContext,
    range: { from: Date; to: Date; bucketSeconds: number },
  ): Promise<HistoryBucket[]>;
}

/** A named target: the router and the metric provider that releases of annotated entities go through. */
export interface ReleaseTarget {
  /** The value of the `release-pilot.io/target` annotation that selects this target. */
  name: string;
  trafficRouter: TrafficRouter;
  metricProvider: MetricProvider;
}

/** Registers targets with the releases backend plugin. */
export interface ReleasesTargetsExtensionPoint {
  addTarget(target: ReleaseTarget): void;
}

/** The extension point through which backend modules add targets. */
export const releasesTargetsExtensionPoint =
  createExtensionPoint<ReleasesTargetsExtensionPoint>({
    id: 'releases.targets',
  });
