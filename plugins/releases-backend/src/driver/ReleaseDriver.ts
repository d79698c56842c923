import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import {
  mergeTrafficStats,
  MetricSample,
  Release,
  ReleaseAction,
} from '@release-pilot/plugin-releases-common';
import { ReleaseTarget } from '@release-pilot/plugin-releases-node';
import {
  analysisWindowStart,
  Clock,
  EngineEvent,
  EngineOptions,
  EngineResult,
  handleReleaseEvent,
  JudgeCatalog,
  WatchJudge,
  watchNeedsHistory,
} from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';
import { FencedRouter, routerContext, targetContext } from './FencedRouter';
import { clearGate, gateEvent } from './gate';
import { OutboxDispatcher, ReleaseOutbox } from './OutboxDispatcher';

export type { OutboxDelivery, ReleaseOutbox } from './OutboxDispatcher';
import { TargetRegistry } from './TargetRegistry';
import { ResultApplier } from './ResultApplier';
import { Sampler } from './Sampler';
import { DEFAULT_CONCURRENCY, DriverConcurrency, TickLoop } from './TickLoop';
import { CallGuard } from './CallGuard';
import { RegionCoordinator } from './RegionCoordinator';
import { readTargetState, runOperation } from './operations';

/** Tuning of the driver. */
export interface ReleaseDriverOptions {
  /** The judge looks at the samples of the current step within this many seconds. */
  analysisWindowSeconds: number;
  /** How long a replica holds the releases it drives before another may take them over. */
  leaseSeconds: number;
  engine: EngineOptions;
  /** Releases driven at once, and per target (default 64 and 16). */
  concurrency?: DriverConcurrency;
  /** A router, metric provider or deployer call slower than this is a provider error (default 10 s; history reads 3x). */
  providerTimeoutSeconds?: number;
}

const DEFAULT_PROVIDER_TIMEOUT_SECONDS = 10;

/** The recovery check looks at this many seconds since the canary's traffic went to 0 %. */
const RECOVERY_WINDOW_SECONDS = 15;

/** How often a person's action is decided again when a tick changed the release meanwhile. */
const OUTSIDE_TICK_ATTEMPTS = 5;

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
      /** Hears how long after its tick's due time each release's tick finished (the scale benchmark). */
      onDriven?: (release: Release, lagMs: number) => void;
    },
  ) {
    this.calls = new CallGuard(deps.options.providerTimeoutSeconds ?? DEFAULT_PROVIDER_TIMEOUT_SECONDS);
    deps.targets.guardCalls(this.calls);
    this.router = new FencedRouter(deps);
    this.messages = new OutboxDispatcher(deps);
    this.sampler = new Sampler(deps.store, Math.max(deps.options.analysisWindowSeconds, deps.watch.options.bucketSeconds, RECOVERY_WINDOW_SECONDS) + 5);
    this.results = new ResultApplier({
      ...deps,
      router: this.router,
      messages: this.messages,
      engineOptions: release => this.engineOptions(release),
      operate: (release, token, target, fenced) => this.operate(release, token, target, fenced),
    });
    this.regions = new RegionCoordinator({
      ...deps,
      messages: this.messages,
      rollBack: (id, reason) => this.applyUserAction(id, 'rollback', 'release-pilot', reason),
    });
    this.loop = new TickLoop({
      ...deps,
      leaseSeconds: deps.options.leaseSeconds,
      concurrency: deps.options.concurrency ?? DEFAULT_CONCURRENCY,
      hasPendingCalls: id => this.calls.hasPending(id),
      drive: (release, token, due) => this.driveRelease(release, token, due),
      prepare: (releases, due) => this.sampler.prepare(releases, due, name => deps.targets.find(name), deps.logger),
      redeliver: now => this.messages.redeliver(now),
    });
  }

  /** Every provider call of a release's tick: timed out, counted, known while pending. */
  readonly calls: CallGuard;
  private readonly router: FencedRouter;
  private readonly messages: OutboxDispatcher;
  private readonly loop: TickLoop;
  private readonly sampler: Sampler;
  private readonly results: ResultApplier;
  private readonly regions: RegionCoordinator;
  /** Releases past their resilience gate whose fault and load this replica has cleared. */
  private readonly gatesCleared = new Set<string>();

  /** A person's resume or rollback of a release across regions. */
  async applyRegionAction(id: string, action: 'resume' | 'rollback', actor: string): Promise<Release> {
    return this.regions.act(await this.deps.store.getRelease(id), action, actor);
  }

  /** One pass over all active releases this replica may drive, and over undelivered messages. */
  tick(options: { onlyTakeovers?: boolean; dueAt?: Date } = {}): Promise<void> {
    return this.loop.tick(options);
  }

  /** A tick in real time, with the lease renewal and takeover timers (see `TickLoop`). */
  tickAndWatch(tickSeconds: number, dueAt?: Date): Promise<void> {
    return this.loop.tickAndWatch(tickSeconds, dueAt);
  }

  /** The loop's claim and ticks at work, and the releases with a provider call pending (diagnostics). */
  health() {
    return { ...this.loop.health(), pendingCalls: this.calls.pendingIds() };
  }

  /** Stops the timers and leaves the replicas sharing the load (shutdown). */
  stop(): Promise<void> {
    return this.loop.stop();
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
      const stored = await this.deps.store.getRelease(id);
      const options = this.engineOptions(stored);
      // What it saves carries the judge's state as its latest tick left it, whatever the action.
      const release = await this.sampler.caughtUp(stored, options.analysis!);
      const result = handleReleaseEvent(release, event, this.deps.clock.now(), options);
      const target = this.deps.targets.find(release.target);
      // Traffic moved by a person gets a new fencing token: the lease holder's calls in flight are refused after it.
      const moves = result.actions.length > 0 || result.release.state === 'rolling_back';
      const token = moves ? await this.deps.store.leases.renewFencingToken(id) : undefined;
      try {
        return await this.results.apply(release, result, target, token);
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= OUTSIDE_TICK_ATTEMPTS) throw error;
        this.deps.logger.info(`Release ${id}: ${event.type === 'user' ? event.action : event.type} raced a tick; deciding it again`);
      }
    }
  }

  /** The engine's limits for a release (the global ones, overridden by its target's policy) and its analysis. */
  private engineOptions(release: Release): EngineOptions {
    const { judges, watch, options } = this.deps;
    const target = this.deps.targets.find(release.target);
    return {
      ...options.engine,
      ...(target?.deployTimeoutSeconds === undefined ? {} : { deployTimeoutSeconds: target.deployTimeoutSeconds }),
      ...(target?.maxConsecutiveProviderErrors === undefined ? {} : { maxConsecutiveProviderErrors: target.maxConsecutiveProviderErrors }),
      analysis: {
        judge: judges.judgeFor(release.analysis),
        limits: judges.limitsFor(release.analysis),
        watch,
        windowSeconds: options.analysisWindowSeconds,
      },
    };
  }


  /** One tick's work on a release this replica leased with `token`, in the tick due at `due`. */
  private async driveRelease(release: Release, token: number | undefined, due: Date): Promise<void> {
    const target = this.deps.targets.find(release.target);
    const now = this.deps.clock.now();
    if (!target) {
      // Without its router nothing can be shifted; say so on the timeline once per tick budget.
      await this.handle(release, token, { type: 'providerError', error: `target '${release.target}' is not registered` }, undefined, now);
      return;
    }
    if (release.rollout) {
      await this.regions.drive(release);
      return;
    }
    if (release.resilience && release.state !== 'gating' && !this.gatesCleared.has(release.id) && (await this.router.mayAct(release, true))) {
      // Once per replica and release after its gate: what a replica that died before its `endGate` left.
      await clearGate(target, targetContext(release, token)).then(
        () => this.gatesCleared.add(release.id),
        error => this.deps.logger.warn(`Release ${release.id}: clearing its resilience gate's fault and load failed: ${errorText(error)}`),
      );
    }
    switch (release.state) {
      case 'pending':
        await this.start(release, token, target, now);
        return;
      case 'gating':
        if (!(await this.router.mayAct(release, true))) return;
        await this.handle(release, token, await gateEvent(release, target, targetContext(release, token)), target, now);
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
        await this.analyse(release, token, target, now, due);
        return;
      default:
        return;
    }
  }

  /** A pending release starts from what the router and the deployer read back. */
  private async start(release: Release, token: number | undefined, target: ReleaseTarget, now: Date) {
    let state;
    try {
      state = await readTargetState(release, target, targetContext(release, token));
    } catch (error) {
      // Nothing moved yet: the release stays pending and says why, once per error.
      this.deps.logger.warn(`Release ${release.id}: reading the target before the start failed: ${errorText(error)}`);
      return;
    }
    await this.handle(release, token, { type: 'start', ...state }, target, now);
  }

  /** A tick of a deploy, promotion or scale-down: the deployer is asked again (or, with `none`, the timeout checked). */
  private async operateOnTick(release: Release, token: number | undefined, target: ReleaseTarget) {
    if (release.operation) {
      // While a side changes the router holds the stored weight: the canary's 100 % while the stable
      // side changes, 0 % while the canary does. A replica that died between saving a weight and
      // setting it left the router behind, and the deployer's traffic guard would refuse forever.
      if ((await this.reconcileWeight(release, token, target).catch(() => undefined)) === 'stale') return;
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
    if (!(await this.router.mayAct(release, fenced))) return release;
    const event = await runOperation(release, target, targetContext(release, token));
    const result = handleReleaseEvent(release, event, this.deps.clock.now(), this.engineOptions(release));
    return this.results.apply(release, result, target, token, fenced);
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
      const sample = await this.sampler.next(release, token, target, recovery.restoredAt!, now, recovery.restoredAt!);
      if (!sample) return;
      await this.sampler.record(release, token, now, sample, { canaryWeight: 0 });
      // The last few seconds since the traffic was restored: enough requests, without the first moments' stragglers forever.
      const recent = await this.sampler.since(release, token, new Date(since).toISOString(), now);
      window = mergeTrafficStats(recent.flatMap(s => [s.canary, s.baseline]));
      if (!recovery.level) history = await this.sampler.history(release, target, watch.options).catch(() => undefined);
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
   *
   * The sample ends at the tick's moment (`end`), not at the moment this release's turn came: every
   * release of a tick then asks its metric provider about the same moment, which a provider that
   * batches (Prometheus) answers in one query per metric for all of them. The next tick's sample
   * starts there, so consecutive samples still cover the time without a gap.
   */
  private async analyse(read: Release, token: number | undefined, target: ReleaseTarget, now: Date, end: Date) {
    const options = this.engineOptions(read);
    const analysis = options.analysis!;
    const release = await this.sampler.caughtUp(read, analysis);
    let sample;
    let history;
    try {
      if ((await this.reconcileWeight(release, token, target)) === 'stale') return;
      const start = release.state === 'watching' ? release.watchStartedAt : release.stepStartedAt;
      sample = await this.sampler.next(release, token, target, start ?? release.createdAt, end);
      if (!sample) return;
      assertSomeData(sample);
      if (watchNeedsHistory(release, analysis)) history = await this.sampler.history(release, target, analysis.watch.options);
    } catch (error) {
      await this.handle(release, token, { type: 'providerError', error: errorText(error) }, target, now);
      return;
    }
    const earlier = await this.sampler.since(release, token, analysisWindowStart(release, now, analysis), now);
    const result = handleReleaseEvent(release, { type: 'tick', sample, earlier, history }, now, options);
    await this.sampler.record(release, token, end, sample, { canaryWeight: release.canaryWeight, verdict: result.release.latestVerdict });
    await this.results.apply(release, result, target, token, true);
  }

  /**
   * After a restart (or a router that lost state) the router is brought back to the persisted intent;
   * `stale` when the release changed since this tick read it (the tick then leaves it alone).
   */
  private async reconcileWeight(release: Release, token: number | undefined, target: ReleaseTarget): Promise<'stale' | undefined> {
    const actual = await target.trafficRouter.getCanaryWeight(routerContext(release, token));
    if (actual === release.canaryWeight) return undefined;
    if (!(await this.router.mayAct(release, true))) return undefined;
    // The router may differ because somebody acted since this tick read the release (a person's
    // rollback, or the coordinator of its region release earlier in this very tick): then the router
    // holds their decision, not a lost weight, and this tick's stale one must not overwrite it.
    if ((await this.deps.store.getRelease(release.id)).revision !== release.revision) return 'stale';
    await this.router.setWeight(release, target, token, release.canaryWeight, true, release.revision);
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
    return undefined;
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
    return this.results.apply(stored, result, target, token, true);
  }
}
