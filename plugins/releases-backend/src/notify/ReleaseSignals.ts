import { LoggerService } from '@backstage/backend-plugin-api';
import { SignalsService } from '@backstage/plugin-signals-node';
import { entitySignalChannel, Release, RELEASES_SIGNAL_CHANNEL, ReleaseSignal } from '@release-pilot/plugin-releases-common';

/** A tick that changed only a release's measurements is pushed at most this often per entity. */
const TICK_SIGNAL_MS = 1000;

/**
 * Publishes each saved change of a release by Backstage signals: a change of state (or one with
 * timeline entries) at once, to the entity's channel and (without naming the release) the releases
 * channel; a tick that only
 * measured to the entity's channel, at most once a second per entity (the last one wins). Never
 * throws: a signal lost is a page that refreshes on its next one, or on its safety poll.
 */
export class ReleaseSignals {
  constructor(private readonly deps: { signals: SignalsService; logger: LoggerService }) {}

  readonly #lastTickAt = new Map<string, number>();
  readonly #pendingTick = new Map<string, { signal: ReleaseSignal; timer: ReturnType<typeof setTimeout> }>();

  /** A release was saved; `changed` when its state changed or its timeline grew. */
  saved(release: Release, changed: boolean): void {
    const signal: ReleaseSignal = { releaseId: release.id, state: release.state, revision: release.revision, savedAt: new Date().toISOString() };
    const key = release.entityRef;
    if (changed) {
      const pending = this.#pendingTick.get(key);
      if (pending) clearTimeout(pending.timer);
      this.#pendingTick.delete(key);
      this.#lastTickAt.set(key, Date.now());
      this.publish(entitySignalChannel(key), signal);
      this.publish(RELEASES_SIGNAL_CHANNEL, { state: signal.state, savedAt: signal.savedAt });
      return;
    }
    const wait = (this.#lastTickAt.get(key) ?? 0) + TICK_SIGNAL_MS - Date.now();
    if (wait <= 0) {
      this.#lastTickAt.set(key, Date.now());
      this.publish(entitySignalChannel(key), signal);
      return;
    }
    const pending = this.#pendingTick.get(key);
    if (pending) {
      pending.signal = signal;
      return;
    }
    const timer = setTimeout(() => {
      const last = this.#pendingTick.get(key);
      this.#pendingTick.delete(key);
      this.#lastTickAt.set(key, Date.now());
      if (last) this.publish(entitySignalChannel(key), last.signal);
    }, wait);
    timer.unref?.();
    this.#pendingTick.set(key, { signal, timer });
  }

  private publish(channel: string, message: ReleaseSignal) {
    this.deps.signals
      .publish({ recipients: { type: 'broadcast' }, channel, message })
      .catch(error => this.deps.logger.debug(`Publishing a signal on ${channel} failed: ${(error as Error).message}`));
  }
}
