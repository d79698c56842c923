import { LoggerService } from '@backstage/backend-plugin-api';
import { MetricSample, Release, StoredSample } from '@release-pilot/plugin-releases-common';
import { catchUpJudgeState, judgeCatchUpRange, ReleaseAnalysis, WatchOptions } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';
import { targetContext } from './FencedRouter';

/** A release's recent samples as this replica stored them under one lease (fencing token). */
interface Recent {
  token: number | undefined;
  lastAt?: string;
  samples: StoredSample[];
  usedAt: number;
}

/** Releases whose samples were not read for this long are forgotten (driven elsewhere now, or ended). */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * One sampler for a release's steps, its post-release watch and its recovery check: each tick reads
 * the metric provider from the release's last stored sample to now, and stores what it read; the
 * watch and the recovery check also read the service's history before the release.
 *
 * It keeps each release's recent samples in memory while this replica holds its lease, so a tick
 * does not read them back from the database: only this lease's holder stores samples, so they are
 * the database's as long as the fencing token is the same. A new token (a lease taken, a person's
 * action) reads them afresh.
 */
export class Sampler {
  constructor(
    private readonly store: ReleasesStore,
    /** How far back an analysis window reaches at most (the judge's window, the watch's bucket). */
    private readonly keepSeconds: number,
  ) {}

  readonly #recent = new Map<string, Recent>();
  #sweptAt = Date.now();

  /**
   * The canary and baseline since the last stored sample (or `start`, and never before
   * `notBefore`); undefined when no time has passed. A provider's error is thrown.
   */
  async next(release: Release, token: number | undefined, target: ReleaseTarget, start: string, now: Date, notBefore?: string): Promise<MetricSample | undefined> {
    const from = (await this.recent(release, token, now)).lastAt ?? start;
    const begin = Math.max(Date.parse(from), notBefore ? Date.parse(notBefore) : -Infinity);
    if (begin >= now.getTime()) return undefined;
    return target.metricProvider.getSample(targetContext(release), { from: new Date(begin), to: now });
  }

  /**
   * Tells each target's metric provider which of a tick's releases will sample up to `end` (those
   * judged: running, paused, watching), so that a batching provider asks about all of them at once.
   * Only a hint: each release's own `next` still asks, and reports any error as its own.
   */
  prepare(releases: Release[], end: Date, targetOf: (name: string) => ReleaseTarget | undefined, logger: LoggerService) {
    const byTarget = new Map<string, Release[]>();
    for (const release of releases) {
      if (release.rollout || !['running', 'paused', 'watching'].includes(release.state)) continue;
      byTarget.set(release.target, byTarget.get(release.target) ?? []).get(release.target)!.push(release);
    }
    for (const [name, judged] of byTarget) {
      try {
        targetOf(name)?.metricProvider.prepareSamples?.(judged.map(release => targetContext(release)), end);
      } catch (error) {
        logger.warn(`Preparing the samples of target '${name}' failed: ${errorText(error)}`);
      }
    }
  }

  /** The samples stored after `since` (an analysis window), oldest first. */
  async since(release: Release, token: number | undefined, since: string, now: Date): Promise<StoredSample[]> {
    return (await this.recent(release, token, now)).samples.filter(s => s.at > since);
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

  /**
   * A release as read from the database, with its judge's state as the latest tick left it: when
   * the ticks since the stored state did not write it (`ReleasesStore`'s `judgeStateSeconds`), their
   * stored samples are judged again. Nothing else of the release changes.
   */
  async caughtUp(release: Release, analysis: ReleaseAnalysis): Promise<Release> {
    const range = judgeCatchUpRange(release, analysis);
    if (!range) return release;
    return catchUpJudgeState(release, await this.store.listSamples(release.id, range), analysis);
  }

  /** Stores what a tick read, with the weight it was read at and the judge's verdict. */
  async record(release: Release, token: number | undefined, now: Date, sample: MetricSample, extra: Pick<StoredSample, 'canaryWeight' | 'verdict'>) {
    const stored: StoredSample = { at: now.toISOString(), stepIndex: release.currentStep, canary: sample.canary, baseline: sample.baseline, ...extra };
    const recent = await this.recent(release, token, now);
    await this.store.appendSample(release.id, stored);
    const keepFrom = new Date(now.getTime() - this.keepSeconds * 1000).toISOString();
    recent.samples = [...recent.samples.filter(s => s.at > keepFrom), stored];
    recent.lastAt = stored.at;
  }

  private async recent(release: Release, token: number | undefined, now: Date): Promise<Recent> {
    this.sweep();
    const cached = this.#recent.get(release.id);
    if (cached && cached.token === token) {
      cached.usedAt = Date.now();
      return cached;
    }
    const since = new Date(now.getTime() - this.keepSeconds * 1000).toISOString();
    const [lastAt, samples] = await Promise.all([this.store.lastSampleAt(release.id), this.store.listSamples(release.id, { since })]);
    const recent = { token, lastAt, samples, usedAt: Date.now() };
    this.#recent.set(release.id, recent);
    return recent;
  }

  private sweep() {
    if (Date.now() - this.#sweptAt < FORGET_AFTER_MS) return;
    this.#sweptAt = Date.now();
    for (const [id, recent] of this.#recent) if (this.#sweptAt - recent.usedAt > FORGET_AFTER_MS) this.#recent.delete(id);
  }
}
