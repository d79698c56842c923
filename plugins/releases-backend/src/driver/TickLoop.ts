import { LoggerService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { Clock } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';
import { Limiter } from './Limiter';

/** How many releases a replica drives at once, and how many of those on one target. */
export interface DriverConcurrency {
  releases: number;
  perTarget: number;
}

export const DEFAULT_CONCURRENCY: DriverConcurrency = { releases: 256, perTarget: 64 };

/**
 * A replica whose claim has not finished for this many leases is wedged (a database query or a lock
 * that never answers): it stops renewing, so the others take its releases over as from a dead one.
 */
export const WEDGED_AFTER_LEASES = 3;

/** A replica sheds leases only when it holds this much above its share (no flapping at the edge). */
function shedAbove(share: number): number {
  return share + Math.max(1, Math.ceil(share * 0.1));
}

/**
 * The driver's loop and leases. Each tick leases the active releases this replica may drive (its
 * share of them, taking over those whose lease ran out, with a timeline entry) and drives them
 * concurrently, a limited number at a time and per target; an entity's releases (a release across
 * regions and its regions' releases) go one after another, as before. A release whose previous
 * tick is still at work (a slow provider) is skipped, not waited for. The leases are renewed on a
 * timer of their own; a takeover timer runs an extra tick when another replica's lease runs out
 * before the next regular one.
 */
export class TickLoop {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      clock: Clock;
      logger: LoggerService;
      owner: string;
      leaseSeconds: number;
      concurrency: DriverConcurrency;
      /** Whether a provider call of the release has not answered yet (it is not driven again until then). */
      hasPendingCalls: (releaseId: string) => boolean;
      /**
       * One tick's work on a release leased with this fencing token; `due` is the tick's moment, the
       * same for every release of the tick (where their samples end, so a metric provider can ask
       * for all of them at once).
       */
      drive: (release: Release, token: number | undefined, due: Date) => Promise<void>;
      /** Tells the metric providers which of these releases will sample up to `due` (before they are driven). */
      prepare?: (releases: Release[], due: Date) => void;
      /** Work before each regular tick (messages other replicas left undelivered). */
      redeliver: (now: Date) => Promise<void>;
      /** Hears how long after its tick's due time each release's tick finished (the scale benchmark). */
      onDriven?: (release: Release, lagMs: number) => void;
    },
  ) {
    this.limiter = new Limiter(deps.concurrency.releases, deps.concurrency.perTarget);
  }

  private readonly limiter: Limiter;
  /** The claim in progress: claims of one replica never overlap (the scheduler's and a takeover's). */
  private claiming: Promise<unknown> = Promise.resolve();
  /** Releases whose tick is at work, by id, with when it started (ms). */
  private readonly inFlight = new Map<string, number>();
  /** When the claim in progress began (ms), if one is. */
  private claimStartedAt?: number;
  private takeoverTimer?: ReturnType<typeof setTimeout>;
  private renewTimer?: ReturnType<typeof setInterval>;

  /**
   * One pass over the active releases this replica may drive, and over undelivered messages;
   * resolves when every release it started is done (`dueAt`: when the tick was due, for the lag).
   */
  tick(options: { onlyTakeovers?: boolean; dueAt?: Date } = {}): Promise<void> {
    const claimed = this.claiming.then(async () => {
      this.claimStartedAt = Date.now();
      try {
        return await this.claimAndStart(options.onlyTakeovers ?? false, options.dueAt);
      } finally {
        this.claimStartedAt = undefined;
      }
    });
    this.claiming = claimed.catch(() => undefined);
    return claimed.then(started => Promise.all(started).then(() => undefined));
  }

  /**
   * A tick in real time: its releases get at most one tick's length (the rest finish in the
   * background and are skipped until then, so a slow target never holds up the next tick of the
   * others); the leases renew on their own timer; and a takeover timer runs one more tick when
   * another replica's lease runs out before this replica's next tick.
   */
  async tickAndWatch(tickSeconds: number, dueAt?: Date): Promise<void> {
    this.startRenewing();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tickLength = new Promise<void>(resolve => {
      timer = setTimeout(resolve, tickSeconds * 1000);
    });
    await Promise.race([this.tick({ dueAt }), tickLength]).finally(() => clearTimeout(timer));
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

  /** What this replica's loop is at: the claim under way and each release's tick at work, for how long (ms). */
  health(): { claimingMs?: number; inFlight: Array<{ id: string; ms: number }> } {
    const now = Date.now();
    return {
      claimingMs: this.claimStartedAt === undefined ? undefined : now - this.claimStartedAt,
      inFlight: [...this.inFlight].map(([id, since]) => ({ id, ms: now - since })),
    };
  }

  /** Stops the timers and says this replica left, so the others take its share at once (shutdown). */
  async stop(): Promise<void> {
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.takeoverTimer = undefined;
    this.renewTimer = undefined;
    await this.deps.store.leases.leave(this.deps.owner).catch(() => undefined);
  }

  /** Renews this replica's leases three times per lease, however long its ticks take, unless its claims stopped finishing. */
  private startRenewing() {
    if (this.renewTimer) return;
    const { store, clock, owner, leaseSeconds, logger } = this.deps;
    let renewing = false;
    let wedged = false;
    this.renewTimer = setInterval(() => {
      if (renewing) return;
      // Alive but stuck is as good as dead to its releases: only a replica whose claims finish renews.
      const claimingMs = this.claimStartedAt === undefined ? 0 : Date.now() - this.claimStartedAt;
      if (claimingMs > leaseSeconds * 1000 * WEDGED_AFTER_LEASES) {
        if (!wedged) logger.warn(`This replica's claim has not finished for ${(claimingMs / 1000).toFixed(1)} s: it stops renewing its leases, so other replicas take its releases over`);
        wedged = true;
        return;
      }
      wedged = false;
      renewing = true;
      store.leases
        .renew(owner, clock.now(), leaseSeconds)
        .catch(error => logger.warn(`Renewing leases failed: ${errorText(error)}`))
        .finally(() => (renewing = false));
    }, (leaseSeconds * 1000) / 3);
    this.renewTimer.unref?.();
  }

  /** Claims the leases, records takeovers, sheds what is above this replica's share and starts each release's work. */
  private async claimAndStart(onlyTakeovers: boolean, dueAt: Date | undefined): Promise<Array<Promise<void>>> {
    const { store, clock, owner, leaseSeconds, logger } = this.deps;
    const now = clock.now();
    // Never later than now: every release of the tick samples up to it.
    const due = dueAt && dueAt < now ? dueAt : now;
    if (!onlyTakeovers) await this.deps.redeliver(now).catch(error => logger.warn(`Delivering stored messages failed: ${errorText(error)}`));
    // A release at work when the claim began may finish while it runs: the claim read it before its save, so it waits too.
    const busy = new Set(this.inFlight.keys());
    const { releases, takeovers, fencingTokens, share, replicas } = await store.leases.claim(owner, now, leaseSeconds);
    if (takeovers.length > 0) {
      // Other replicas stopped renewing their leases (they died or stalled): this one drives on.
      await store.appendTimeline(
        takeovers.map(takeover => {
          const seconds = (now.getTime() - new Date(takeover.lastRenewedAt).getTime()) / 1000;
          const message = `Taken over by replica ${owner} from ${takeover.from}, ${seconds.toFixed(1)} s after that replica's last lease renewal`;
          return { releaseId: takeover.id, event: { at: now.toISOString(), actor: 'release-pilot', type: 'taken_over' as const, message, data: { from: takeover.from, to: owner, seconds } } };
        }),
      );
      logger.info(`Took over ${takeovers.length} release(s) from ${[...new Set(takeovers.map(t => t.from))].join(', ')}`);
    }
    const taken = new Set(takeovers.map(t => t.id));
    const idle = releases.filter(r => !busy.has(r.id) && !this.inFlight.has(r.id) && !this.deps.hasPendingCalls(r.id));
    let drive = onlyTakeovers ? idle.filter(r => taken.has(r.id)) : idle;
    if (replicas > 1 && releases.length > shedAbove(share)) {
      // Another replica joined: the newest releases above this replica's share go to it.
      const shed = new Set(idle.slice(-(releases.length - share)).map(r => r.id));
      await store.leases.release(owner, [...shed]);
      logger.info(`Let go of ${shed.size} release(s) above this replica's share of ${share} (${replicas} replicas)`);
      drive = drive.filter(r => !shed.has(r.id));
    }
    this.deps.prepare?.(drive, due);
    // An entity's releases one after another (a release across regions before its regions'), entities concurrently.
    const byEntity = new Map<string, Release[]>();
    for (const release of drive) byEntity.set(release.entityRef, [...(byEntity.get(release.entityRef) ?? []), release]);
    return [...byEntity.values()].map(group => this.start(group, fencingTokens, due));
  }

  private start(group: Release[], fencingTokens: Map<string, number>, due: Date): Promise<void> {
    for (const release of group) this.inFlight.set(release.id, Date.now());
    const target = group[0].target.split('/')[0];
    return this.limiter.run(target, async () => {
      for (const release of group) {
        try {
          await this.deps.drive(release, fencingTokens.get(release.id), due);
          this.deps.onDriven?.(release, this.deps.clock.now().getTime() - due.getTime());
        } catch (error) {
          this.deps.logger.warn(`Driving release ${release.id} failed: ${errorText(error)}`);
        } finally {
          this.inFlight.delete(release.id);
        }
      }
    });
  }
}
