import { randomUUID } from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import {
  mergeTrafficStats,
  MetricSample,
  Release,
  ReleaseAction,
} from '@release-pilot/plugin-releases-common';
import {
  ReleaseTarget,
  ReleaseTargetContext,
} from '@release-pilot/plugin-releases-node';
import { analysisWindowStart, Clock, EngineAction, EngineEvent, EngineOptions, EngineResult, handleReleaseEvent, JudgeCatalog, WatchJudge, watchNeedsHistory } from '@release-pilot/plugin-releases-core';
import { OutboxEntry, ReleasesStore } from '../database/ReleasesStore';
import { TargetRegistry } from './TargetRegistry';
import { readTargetState, runOperation } from './operations';

/** Tuning of the driver. */
export interface ReleaseDriverOptions {
  /** The judge looks at the samples of the current step within this many seconds. */
  analysisWindowSeconds: number;
  /** How long a replica holds the releases it drives before another may take them over. */
  leaseSeconds: number;
  engine: EngineOptions;
  /** Per-target overrides of the engine's limits, by target name. */
  targets: Record<string, Partial<EngineOptions>>;
}

/**
 * Where the messages for a release's owners go (the notifier). They are computed from the timeline
 * records before the release is saved and stored with them in one transaction (an outbox), then
 * delivered; a replica that dies in between leaves them to the next tick of any replica.
 */
export interface ReleaseOutbox {
  /** The messages these records of `release` produce (JSON). */
  messagesFor(release: Release, records: EngineResult['records']): Array<{ message: unknown; owner?: string }>;
  /** Delivers entries once each. Must not throw. */
  deliver(entries: OutboxEntry[], now: Date): Promise<OutboxDelivery>;
}

/**
 * What one delivery round of outbox entries decided: the ids done with (delivered, or given up),
 * the entries to try again later (with their next message, e.g. an attempt count), and the new
 * entries they led to (e.g. one per escalation channel), which are stored and delivered at once.
 */
export interface OutboxDelivery {
  done: string[];
  retry: Array<{ id: string; message: unknown; attemptAfter: string }>;
  next: Array<{ releaseId: string; message: unknown; owner?: string }>;
}

/** The recovery check looks at this many seconds since the canary's traffic went to 0 %. */
const RECOVERY_WINDOW_SECONDS = 15;

/** How often a person's action is decided again when a tick changed the release meanwhile. */
const OUTSIDE_TICK_ATTEMPTS = 5;

/** How often a tick's router call puts back a weight saved by someone else while it was in flight. */
const MAX_WEIGHT_REPAIRS = 3;

/** How long the storing replica has to deliver an outbox entry before any replica may. */
const OUTBOX_GRACE_SECONDS = 30;

/**
 * No request at all on either side is not a quiet service but a provider that lost its data (or a
 * service that is down): it counts like a provider error, holds the weight and never passes. Few
 * requests are fine: the step waits for its minimum sample.
 */
function assertSomeData(sample: MetricSample) {
  if (sample.canary.requests + sample.baseline.requests === 0) {
    throw new Error('no data: the metric provider reported no requests for either side');
  }
}

/** A weight the engine wants set before the new state is saved, its outcome reported back. */
function isReported(action: EngineAction): boolean {
  return action.type === 'setCanaryWeight' && action.report === true;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The imperative shell around the engine. Each tick it leases the active releases, samples their
 * metrics, asks the judge, feeds the engine and performs its actions through the traffic router,
 * persisting the intent before acting (a rollback sets weight 0 first: the fast path).
 */
export class ReleaseDriver {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      targets: TargetRegistry;
      judges: JudgeCatalog;
      watch: WatchJudge;
      clock: Clock;
      logger: LoggerService;
      owner: string;
      options: ReleaseDriverOptions;
      /** Hears every timeline record once it is stored (audit); must not throw or block. */
      onRecorded?: (release: Release, records: EngineResult['records']) => void;
      /** Messages for the owners, stored with the records and delivered after (notifications). */
      outbox?: ReleaseOutbox;
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
    const { store, clock, owner, options, logger } = this.deps;
    const now = clock.now();
    if (!onlyTakeovers) await this.redeliver(now).catch(error => logger.warn(`Delivering stored messages failed: ${errorText(error)}`));
    const { releases, takeovers, fencingTokens } = await store.leases.claim(owner, now, options.leaseSeconds);
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
        await this.driveRelease(release, fencingTokens.get(release.id));
      } catch (error) {
        logger.warn(`Driving release ${release.id} failed: ${errorText(error)}`);
      }
    }
  }

  /** Applies a person's action (pause, resume, promote, rollback) at once. */
  async applyUserAction(
    id: string,
    action: ReleaseAction,
    actor: string,
    reason?: string,
  ): Promise<Release> {
    return this.applyOutsideTick(id, { type: 'user', action, actor, reason });
  }

  /** A pipeline confirms that a side runs a version (targets with the `none` deployer). */
  async confirmDeployed(id: string, side: 'canary' | 'stable', version: string, actor: string): Promise<Release> {
    return this.applyOutsideTick(id, { type: 'deployConfirmed', side, version, actor });
  }

  /**
   * A person's action or a pipeline's confirmation, applied at once by any replica. When the
   * release's driver saves a tick in between (a deploy's progress, a step), the action is decided
   * again on what it saved: a person's rollback never fails for a tick that raced it.
   */
  private async applyOutsideTick(id: string, event: EngineEvent): Promise<Release> {
    for (let attempt = 1; ; attempt++) {
      const release = await this.deps.store.getRelease(id);
      const result = handleReleaseEvent(release, event, this.deps.clock.now(), this.engineOptions(release));
      const target = this.deps.targets.find(release.target);
      // Traffic moved by a person gets a new fencing token: the lease holder's calls in flight are refused after it.
      const moves = result.actions.length > 0 || result.release.state === 'rolling_back';
      const token = moves ? await this.deps.store.leases.renewFencingToken(id) : undefined;
      try {
        return await this.apply(release, result, target, token);
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= OUTSIDE_TICK_ATTEMPTS) throw error;
        this.deps.logger.info(`Release ${id}: ${event.type === 'user' ? event.action : event.type} raced a tick; deciding it again`);
      }
    }
  }

  /** The engine's limits for a release (the global ones, overridden by its target's policy) and its analysis. */
  private engineOptions(release: Release): EngineOptions {
    const { judges, watch, options } = this.deps;
    const deployTimeoutSeconds = this.deps.targets.find(release.target)?.deployTimeoutSeconds;
    return {
      ...options.engine,
      ...(deployTimeoutSeconds === undefined ? {} : { deployTimeoutSeconds }),
      ...options.targets[release.target],
      analysis: {
        judge: judges.judgeFor(release.analysis),
        limits: judges.limitsFor(release.analysis),
        watch,
        windowSeconds: options.analysisWindowSeconds,
      },
    };
  }

  private context(release: Release, fencingToken?: number): ReleaseTargetContext {
    return {
      entityRef: release.entityRef,
      releaseId: release.id,
      version: release.version,
      annotations: release.annotations ?? {},
      fencingToken,
    };
  }

  /** One tick's work on a release this replica leased with `token`. */
  private async driveRelease(release: Release, token: number | undefined): Promise<void> {
    const target = this.deps.targets.find(release.target);
    const now = this.deps.clock.now();
    if (!target) {
      // Without its router nothing can be shifted; say so on the timeline once per tick budget.
      await this.handle(release, token, { type: 'providerError', error: `target '${release.target}' is not registered` }, undefined, now);
      return;
    }
    switch (release.state) {
      case 'pending':
        await this.start(release, token, target, now);
        return;
      case 'deploying':
      case 'promoting':
        await this.operateOnTick(release, token, target);
        return;
      case 'rolling_back': {
        if (release.operation) {
          await this.operateOnTick(release, token, target);
          return;
        }
        if (release.recovery?.status === 'verifying' && release.recovery.restoredAt) {
          await this.verifyRecovery(release, token, target, now);
          return;
        }
        // A rollback the router refused: the engine says when to ask again.
        await this.handle(release, token, { type: 'timer' }, target, now);
        return;
      }
      case 'running':
      case 'paused':
      case 'watching':
        await this.analyse(release, token, target, now);
        return;
      default:
        return;
    }
  }

  /** A pending release starts from what the router and the deployer read back. */
  private async start(release: Release, token: number | undefined, target: ReleaseTarget, now: Date) {
    let state;
    try {
      state = await readTargetState(release, target, this.context(release, token));
    } catch (error) {
      // Nothing moved yet: the release stays pending and says why, once per error.
      this.deps.logger.warn(`Release ${release.id}: reading the target before the start failed: ${errorText(error)}`);
      return;
    }
    await this.handle(release, token, { type: 'start', ...state }, target, now);
  }

  /** A tick of a deploy, promotion or scale-down: the deployer is asked again (or, with `none`, the timeout checked). */
  private async operateOnTick(release: Release, token: number | undefined, target: ReleaseTarget) {
    if (release.operation && release.state === 'promoting' && release.canaryWeight > 0) {
      // Traffic stays on the canary while the stable side changes: the router is held there.
      await this.reconcileWeight(release, token, target).catch(() => undefined);
    }
    if (release.deployMode !== 'deployer') {
      await this.handle(release, token, { type: 'operation' }, target, this.deps.clock.now());
      return;
    }
    await this.operate(release, token, target);
  }

  /** One call of the deployer for the release's operation, its outcome fed to the engine. */
  private async operate(release: Release, token: number | undefined, target: ReleaseTarget, fenced = true): Promise<Release> {
    if (!release.operation || release.deployMode !== 'deployer') return release;
    if (!(await this.mayAct(release, fenced))) return release;
    const event = await runOperation(release, target, this.context(release, token));
    const result = handleReleaseEvent(release, event, this.deps.clock.now(), this.engineOptions(release));
    return this.apply(release, result, target, token, fenced);
  }

  /**
   * After a rollback: the whole service since its traffic was restored, for the engine to hold
   * against the service's usual level; until the release has that level, with the service's history
   * before the release (the watch's model) and the samples stored before the rollback decision.
   */
  private async verifyRecovery(release: Release, token: number | undefined, target: ReleaseTarget, now: Date) {
    const { store, watch } = this.deps;
    const recovery = release.recovery!;
    let window;
    let history;
    const since = Math.max(Date.parse(recovery.restoredAt!), now.getTime() - RECOVERY_WINDOW_SECONDS * 1000);
    try {
      const from = (await store.lastSampleAt(release.id)) ?? recovery.restoredAt!;
      const start = Math.max(Date.parse(from), Date.parse(recovery.restoredAt!));
      if (start >= now.getTime()) return;
      const sample = await target.metricProvider.getSample(this.context(release), { from: new Date(start), to: now });
      await store.appendSample(release.id, { at: now.toISOString(), stepIndex: release.currentStep, canaryWeight: 0, canary: sample.canary, baseline: sample.baseline });
      // The last few seconds since the traffic was restored: enough requests, without the first moments' stragglers forever.
      const recent = await store.listSamples(release.id, { since: new Date(since).toISOString() });
      window = mergeTrafficStats(recent.flatMap(s => [s.canary, s.baseline]));
      if (!recovery.level && target.metricProvider.getHistory) {
        const end = new Date(release.createdAt);
        const { historyDays, bucketSeconds } = watch.options;
        history = await target.metricProvider
          .getHistory(this.context(release), { from: new Date(end.getTime() - historyDays * 86_400_000), to: end, bucketSeconds })
          .catch(() => undefined);
      }
    } catch (error) {
      this.deps.logger.warn(`Release ${release.id}: the recovery check could not read metrics: ${errorText(error)}`);
    }
    const before = recovery.level ? undefined : await store.listSamples(release.id, { until: recovery.decidedAt });
    const event: EngineEvent = { type: 'recoveryCheck', window, windowSeconds: (now.getTime() - since) / 1000, history, before };
    await this.handle(release, token, event, target, now);
  }

  /**
   * A tick of analysis: the sample since the last one, the samples of the analysis window and, on
   * the post-release watch's first tick, the service's history before the release. The engine
   * measures them; the sample is stored with the measurement.
   */
  private async analyse(release: Release, token: number | undefined, target: ReleaseTarget, now: Date) {
    const { store } = this.deps;
    const options = this.engineOptions(release);
    const analysis = options.analysis!;
    const context = this.context(release);
    let sample;
    let history;
    try {
      await this.reconcileWeight(release, token, target);
      const start = release.state === 'watching' ? release.watchStartedAt : release.stepStartedAt;
      const from = (await store.lastSampleAt(release.id)) ?? start ?? release.createdAt;
      if (new Date(from).getTime() >= now.getTime()) return;
      sample = await target.metricProvider.getSample(context, { from: new Date(from), to: now });
      assertSomeData(sample);
      if (watchNeedsHistory(release, analysis) && target.metricProvider.getHistory) {
        const end = new Date(release.createdAt);
        const { historyDays, bucketSeconds } = analysis.watch.options;
        history = await target.metricProvider.getHistory(context, { from: new Date(end.getTime() - historyDays * 86_400_000), to: end, bucketSeconds });
      }
    } catch (error) {
      await this.handle(release, token, { type: 'providerError', error: errorText(error) }, target, now);
      return;
    }
    const earlier = await store.listSamples(release.id, { since: analysisWindowStart(release, now, analysis) });
    const result = handleReleaseEvent(release, { type: 'tick', sample, earlier, history }, now, options);
    await store.appendSample(release.id, {
      at: now.toISOString(),
      stepIndex: release.currentStep,
      canaryWeight: release.canaryWeight,
      canary: sample.canary,
      baseline: sample.baseline,
      verdict: result.release.latestVerdict,
    });
    await this.apply(release, result, target, token, true);
  }

  /** After a restart (or a router that lost state) the router is brought back to the persisted intent. */
  private async reconcileWeight(release: Release, token: number | undefined, target: ReleaseTarget) {
    const context = this.context(release, token);
    const actual = await target.trafficRouter.getCanaryWeight(context);
    if (actual === release.canaryWeight) return;
    if (!(await this.mayAct(release, true))) return;
    await this.setWeight(release, target, token, release.canaryWeight, true, release.revision);
    const message = `Reconciled canary weight from ${actual}% to the stored ${release.canaryWeight}%`;
    await this.deps.store.appendEvents(release.id, [
      {
        at: this.deps.clock.now().toISOString(),
        actor: 'release-pilot',
        type: 'weight_reconciled',
        message,
        data: { from: actual, to: release.canaryWeight },
      },
    ]);
    this.deps.logger.info(`Release ${release.id} of ${release.entityRef}: ${message}`);
  }

  private async handle(
    release: Release,
    token: number | undefined,
    event: EngineEvent,
    target: ReleaseTarget | undefined,
    now: Date,
    stored: Release = release,
  ): Promise<Release> {
    const result = handleReleaseEvent(release, event, now, this.engineOptions(release));
    return this.apply(stored, result, target, token, true);
  }

  /**
   * One router call, decided on the release as stored at revision `basis`. On a tick it is checked
   * again once it has landed: if anyone saved the release since (a person's rollback on another
   * replica, a new lease holder), their own router call may have landed before this one on a router
   * that cannot check fencing tokens (HAProxy), so the weight stored now is put back, and checked
   * again the same way. Whoever saves a decision writes the router after saving, so the last call
   * to land carries the last decision saved.
   */
  private async setWeight(release: Release, target: ReleaseTarget, token: number | undefined, weight: number, fenced: boolean, basis: number) {
    if (!fenced) return target.trafficRouter.setCanaryWeight(this.context(release, token), weight);
    // A call that failed may still have landed in part: then any saved change is put back too.
    const failure = await target.trafficRouter.setCanaryWeight(this.context(release, token), weight).then(() => undefined, (error: unknown) => ({ error }));
    let written = failure ? NaN : weight;
    let seen = basis;
    for (let attempt = 0; attempt < MAX_WEIGHT_REPAIRS; attempt++) {
      const stored = await this.deps.store.getRelease(release.id);
      if (stored.revision === seen || stored.canaryWeight === written) break;
      this.deps.logger.warn(`Release ${release.id}: changed by ${stored.rollbackActor ?? 'another replica'} while its router call of ${weight}% was in flight; putting back the stored ${stored.canaryWeight}%`);
      const repaired = await target.trafficRouter.setCanaryWeight(this.context(stored, token), stored.canaryWeight).then(() => true, () => false);
      written = repaired ? stored.canaryWeight : NaN;
      seen = stored.revision;
    }
    if (failure) throw failure.error;
    return undefined;
  }

  /** Before a router call on a tick: does this replica still hold the release's lease? */
  private async mayAct(release: Release, fenced: boolean): Promise<boolean> {
    if (!fenced) return true;
    if (await this.deps.store.leases.holds(release.id, this.deps.owner, this.deps.clock.now())) return true;
    this.deps.logger.warn(`Release ${release.id}: lease lost to another replica; not touching its router`);
    return false;
  }

  /**
   * Persists and performs an engine result. `previous` is the release as stored (for the
   * concurrency check). A weight the engine wants reported (a rollback's weight 0) is set before
   * anything is written; every other weight change is written first and then applied, so a crash
   * in between is reconciled on restart.
   */
  private async apply(
    previous: Release,
    result: EngineResult,
    target: ReleaseTarget | undefined,
    /** The fencing token the router calls carry (routers that can compare-and-set refuse an older one). */
    token: number | undefined,
    /** A tick's work (fenced by the lease), not a person's action (which any replica may apply). */
    fenced = false,
  ): Promise<Release> {
    const { clock } = this.deps;
    const stamp = (records: EngineResult['records'], at: Date) => records.map(r => ({ ...r, at: at.toISOString() }));
    let done = result;
    let records = stamp(result.records, clock.now());
    let reportedApplied = false;
    if (result.actions.some(isReported)) {
      // Weights the engine wants before anything is written (a rollback's weight 0: the fast path);
      // each one's outcome goes back to the engine, and what it then decides is saved with the rest.
      if (!(await this.mayAct(previous, fenced))) return previous;
      done = { ...result, actions: result.actions.filter(a => !isReported(a)) };
      for (const action of result.actions.filter(isReported)) {
        if (action.type !== 'setCanaryWeight') continue;
        const weight = action.weight;
        let error: string | undefined;
        try {
          if (!target) throw new Error(`target '${previous.target}' is not registered`);
          await this.setWeight(done.release, target, token, weight, fenced, previous.revision);
          reportedApplied = true;
        } catch (e) {
          error = errorText(e);
        }
        const outcome = handleReleaseEvent(done.release, { type: 'weightApplied', weight, error }, clock.now(), this.engineOptions(previous));
        done = { release: outcome.release, actions: [...done.actions, ...outcome.actions], records: [...done.records, ...outcome.records] };
        records = [...records, ...stamp(outcome.records, clock.now())];
      }
    }
    const saved = await this.save(previous, done, records, target, token, fenced);
    if (reportedApplied && !fenced && target) {
      // A person's weight went to the router before it was saved: a tick's call that landed in
      // between would see no change when it checked. Once saved, the weight goes out once more.
      await target.trafficRouter.setCanaryWeight(this.context(saved, token), saved.canaryWeight).catch(error =>
        this.deps.logger.warn(`Release ${saved.id}: confirming weight ${saved.canaryWeight}% after saving failed: ${errorText(error)}`),
      );
    }
    return saved;
  }

  /** Saves an engine result with its stamped records and messages, then performs its remaining actions. */
  private async save(
    previous: Release,
    result: EngineResult,
    stamped: Array<EngineResult['records'][number] & { at: string }>,
    target: ReleaseTarget | undefined,
    token: number | undefined,
    fenced: boolean,
  ): Promise<Release> {
    const { store, logger } = this.deps;
    const lease = fenced ? { leaseOwner: this.deps.owner } : {};
    const outbox = this.outboxFor(result.release, result.records);
    if (result.release !== previous || result.records.length > 0) {
      await store.saveRelease(previous, result.release, stamped, { ...lease, outbox });
    }
    if (result.actions.length && !(await this.mayAct(result.release, fenced))) return result.release;
    let weightsApplied = true;
    for (const action of result.actions) {
      if (action.type === 'operate') continue;
      try {
        if (!target) throw new Error(`target '${previous.target}' is not registered`);
        await this.setWeight(result.release, target, token, action.weight, fenced, result.release.revision);
      } catch (error) {
        // The intent is stored; the next tick reconciles the router with it.
        weightsApplied = false;
        logger.warn(`Setting canary weight ${action.weight}% for release ${previous.id} failed: ${errorText(error)}`);
      }
    }
    for (const record of result.records) {
      logger.info(`Release ${previous.id} of ${previous.entityRef}: ${record.message}`);
    }
    this.recorded(result.release, result.records, outbox);
    if (target && weightsApplied && result.actions.some(a => a.type === 'operate')) {
      // The deployer's operation right away (its first call starts it); later ticks carry it on,
      // so a failure here (a tick that saved meanwhile) changes nothing that was decided and saved.
      return this.operate(result.release, token, target, fenced).catch(error => {
        logger.warn(`Release ${previous.id}: the deployer's first call will be made by the next tick: ${errorText(error)}`);
        return result.release;
      });
    }
    return result.release;
  }

  /** The outbox entries of these records, due for any replica after the grace period. */
  private outboxFor(release: Release, records: EngineResult['records']): OutboxEntry[] {
    if (!records.length || !this.deps.outbox) return [];
    const attemptAfter = new Date(this.deps.clock.now().getTime() + OUTBOX_GRACE_SECONDS * 1000).toISOString();
    return this.deps.outbox
      .messagesFor(release, records)
      .map(({ message, owner }) => ({ id: randomUUID(), releaseId: release.id, owner, message, attemptAfter }));
  }

  /**
   * Delivers stored entries in the background; settles what the round decided, and delivers the
   * entries it led to (stored first, so a replica that dies meanwhile leaves them to another).
   */
  private async deliver(entries: OutboxEntry[]): Promise<void> {
    const { outbox, store, logger, clock } = this.deps;
    if (!entries.length || !outbox) return;
    try {
      const { done, retry, next } = await outbox.deliver(entries, clock.now());
      const attemptAfter = new Date(clock.now().getTime() + OUTBOX_GRACE_SECONDS * 1000).toISOString();
      const stored = next.map(entry => ({ ...entry, id: randomUUID(), attemptAfter }));
      await store.outbox.settle({ done, retry, next: stored });
      await this.deliver(stored);
    } catch (error) {
      logger.warn(`Delivering messages failed: ${errorText(error)}`);
    }
  }

  /** Messages another replica stored but did not deliver (it died, or delivery failed): delivered now. */
  private async redeliver(now: Date) {
    if (!this.deps.outbox) return;
    const due = await this.deps.store.outbox.claim(now, OUTBOX_GRACE_SECONDS * 2);
    if (due.length) this.deps.logger.info(`Delivering ${due.length} stored message(s) left undelivered`);
    await this.deliver(due);
  }

  private recorded(release: Release, records: EngineResult['records'], outbox: OutboxEntry[]) {
    void this.deliver(outbox);
    if (!records.length || !this.deps.onRecorded) return;
    try {
      this.deps.onRecorded(release, records);
    } catch (error) {
      this.deps.logger.warn(`Reporting the records of release ${release.id} failed: ${errorText(error)}`);
    }
  }
}
