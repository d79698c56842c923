import { LoggerService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { Clock } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';

/**
 * The driver's loop and leases: each tick leases the active releases this replica may drive (taking
 * over those whose lease ran out, with a timeline entry), and drives each; a takeover timer runs an
 * extra tick when another replica's lease runs out before the next regular one.
 */
export class TickLoop {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      clock: Clock;
      logger: LoggerService;
      owner: string;
      leaseSeconds: number;
      /** One tick's work on a release leased with this fencing token. */
      drive: (release: Release, token: number | undefined) => Promise<void>;
      /** Work before each regular tick (messages other replicas left undelivered). */
      redeliver: (now: Date) => Promise<void>;
    },
  ) {}

  /** The tick in progress: ticks of one replica never overlap (the scheduler's and a takeover's). */
  private running: Promise<void> = Promise.resolve();
  private takeoverTimer?: ReturnType<typeof setTimeout>;

  /** One pass over all active releases this replica may drive, and over undelivered messages. */
  tick(options: { onlyTakeovers?: boolean } = {}): Promise<void> {
    const next = this.running.then(() => this.tickOnce(options.onlyTakeovers ?? false));
    this.running = next.catch(() => undefined);
    return next;
  }

  /**
   * A tick, then a takeover timer: when another replica's lease runs out before this replica's next
   * tick, one more tick runs right then. A dead replica's releases thus move on one lease after its
   * last tick, not up to a tick later. Real time only (the backend and the reliability run).
   */
  async tickAndWatch(tickSeconds: number): Promise<void> {
    await this.tick();
    const expiry = await this.deps.store.leases.nextForeignExpiry(this.deps.owner);
    if (!expiry) return;
    const delayMs = expiry.getTime() - this.deps.clock.now().getTime() + 50;
    if (delayMs >= tickSeconds * 1000) return;
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.takeoverTimer = setTimeout(() => {
      this.takeoverTimer = undefined;
      this.tick({ onlyTakeovers: true }).catch(error => this.deps.logger.warn(`Takeover tick failed: ${errorText(error)}`));
    }, Math.max(0, delayMs));
    this.takeoverTimer.unref?.();
  }

  /** Stops the takeover timer (shutdown). */
  stop(): void {
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.takeoverTimer = undefined;
  }

  private async tickOnce(onlyTakeovers: boolean): Promise<void> {
    const { store, clock, owner, leaseSeconds, logger } = this.deps;
    const now = clock.now();
    if (!onlyTakeovers) await this.deps.redeliver(now).catch(error => logger.warn(`Delivering stored messages failed: ${errorText(error)}`));
    const { releases, takeovers, fencingTokens } = await store.leases.claim(owner, now, leaseSeconds);
    for (const takeover of takeovers) {
      // Another replica stopped renewing its lease (it died or stalled): this one drives on.
      const seconds = (now.getTime() - new Date(takeover.lastRenewedAt).getTime()) / 1000;
      const message = `Taken over by replica ${owner} from ${takeover.from}, ${seconds.toFixed(1)} s after that replica's last tick`;
      await store.appendEvents(takeover.id, [
        { at: now.toISOString(), actor: 'release-pilot', type: 'taken_over', message, data: { from: takeover.from, to: owner, seconds } },
      ]);
      logger.info(`Release ${takeover.id}: ${message}`);
    }
    const taken = new Set(takeovers.map(t => t.id));
    for (const release of releases) {
      // A takeover tick drives only what it took over; the rest waits for the regular tick.
      if (onlyTakeovers && !taken.has(release.id)) continue;
      try {
        await this.deps.drive(release, fencingTokens.get(release.id));
      } catch (error) {
        logger.warn(`Driving release ${release.id} failed: ${errorText(error)}`);
      }
    }
  }
}
