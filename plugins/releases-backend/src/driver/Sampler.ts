import { MetricSample, Release, StoredSample } from '@release-pilot/plugin-releases-common';
import { WatchOptions } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../database/ReleasesStore';
import { targetContext } from './FencedRouter';

/**
 * One sampler for a release's steps, its post-release watch and its recovery check: each tick reads
 * the metric provider from the release's last stored sample to now, and stores what it read; the
 * watch and the recovery check also read the service's history before the release.
 */
export class Sampler {
  constructor(private readonly store: ReleasesStore) {}

  /**
   * The canary and baseline since the last stored sample (or `start`, and never before
   * `notBefore`); undefined when no time has passed. A provider's error is thrown.
   */
  async next(release: Release, target: ReleaseTarget, start: string, now: Date, notBefore?: string): Promise<MetricSample | undefined> {
    const from = (await this.store.lastSampleAt(release.id)) ?? start;
    const begin = Math.max(Date.parse(from), notBefore ? Date.parse(notBefore) : -Infinity);
    if (begin >= now.getTime()) return undefined;
    return target.metricProvider.getSample(targetContext(release), { from: new Date(begin), to: now });
  }

  /** The service's history over the watch's days before the release (its usual level by time of day). */
  async history(release: Release, target: ReleaseTarget, options: WatchOptions) {
    if (!target.metricProvider.getHistory) return undefined;
    const end = new Date(release.createdAt);
    return target.metricProvider.getHistory(targetContext(release), {
      from: new Date(end.getTime() - options.historyDays * 86_400_000),
      to: end,
      bucketSeconds: options.bucketSeconds,
    });
  }

  /** Stores what a tick read, with the weight it was read at and the judge's verdict. */
  async record(release: Release, now: Date, sample: MetricSample, extra: Pick<StoredSample, 'canaryWeight' | 'verdict'>) {
    await this.store.appendSample(release.id, { at: now.toISOString(), stepIndex: release.currentStep, canary: sample.canary, baseline: sample.baseline, ...extra });
  }
}
