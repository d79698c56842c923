import { LoggerService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { Clock, EngineAction, EngineOptions, EngineResult, handleReleaseEvent } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';
import { FencedRouter, routerContext, targetContext } from './FencedRouter';
import { clearGate } from './gate';
import { OutboxDispatcher } from './OutboxDispatcher';

/** A weight the engine wants set before the new state is saved, its outcome reported back. */
function isReported(action: EngineAction): boolean {
  return action.type === 'setCanaryWeight' && action.report === true;
}

/**
 * Persists and performs what the engine decided: reported weights first (a rollback's 0 %), then the
 * release, its timeline records and its messages in one transaction, then the remaining router
 * calls and the deployer's first call.
 */
export class ResultApplier {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      clock: Clock;
      logger: LoggerService;
      owner: string;
      router: FencedRouter;
      messages: OutboxDispatcher;
      engineOptions: (release: Release) => EngineOptions;
      /** The deployer's call for an operation the engine started. */
      operate: (release: Release, token: number | undefined, target: ReleaseTarget, fenced: boolean) => Promise<Release>;
      /** Hears every timeline record once it is stored (audit); must not throw or block. */
      onRecorded?: (release: Release, records: EngineResult['records']) => void;
    },
  ) {}

  /**
   * Persists and performs an engine result. `previous` is the release as stored (for the
   * concurrency check). A weight the engine wants reported (a rollback's weight 0) is set before
   * anything is written; every other weight change is written first and then applied, so a crash
   * in between is reconciled on restart.
   */
  async apply(
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
      if (!(await this.deps.router.mayAct(previous, fenced))) return previous;
      done = { ...result, actions: result.actions.filter(a => !isReported(a)) };
      for (const action of result.actions.filter(isReported)) {
        if (action.type !== 'setCanaryWeight') continue;
        const weight = action.weight;
        let error: string | undefined;
        try {
          if (!target) throw new Error(`target '${previous.target}' is not registered`);
          await this.deps.router.setWeight(done.release, target, token, weight, fenced, previous.revision);
          reportedApplied = true;
        } catch (e) {
          error = errorText(e);
        }
        const outcome = handleReleaseEvent(done.release, { type: 'weightApplied', weight, error }, clock.now(), this.deps.engineOptions(previous));
        done = { release: outcome.release, actions: [...done.actions, ...outcome.actions], records: [...done.records, ...outcome.records] };
        records = [...records, ...stamp(outcome.records, clock.now())];
      }
    }
    const saved = await this.save(previous, done, records, target, token, fenced);
    if (reportedApplied && !fenced && target) {
      // A person's weight went to the router before it was saved: a tick's call that landed in
      // between would see no change when it checked. Once saved, the weight goes out once more.
      await target.trafficRouter.setCanaryWeight(routerContext(saved, token), saved.canaryWeight).catch(error =>
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
    const outbox = this.deps.messages.entriesFor(result.release, result.records);
    if (result.release !== previous || result.records.length > 0) {
      await store.saveRelease(previous, result.release, stamped, { ...lease, outbox });
    }
    if (result.actions.length && !(await this.deps.router.mayAct(result.release, fenced))) return result.release;
    let weightsApplied = true;
    for (const action of result.actions) {
      if (action.type === 'operate') continue;
      if (action.type === 'endGate') {
        if (target) await clearGate(target, targetContext(result.release, token)).catch(error => logger.warn(`Release ${previous.id}: clearing its resilience gate failed (its fault's TTL ends it): ${errorText(error)}`));
        continue;
      }
      try {
        if (!target) throw new Error(`target '${previous.target}' is not registered`);
        await this.deps.router.setWeight(result.release, target, token, action.weight, fenced, result.release.revision);
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
      return this.deps.operate(result.release, token, target, fenced).catch(error => {
        logger.warn(`Release ${previous.id}: the deployer's first call will be made by the next tick: ${errorText(error)}`);
        return result.release;
      });
    }
    return result.release;
  }

  private recorded(release: Release, records: EngineResult['records'], outbox: ReturnType<OutboxDispatcher['entriesFor']>) {
    void this.deps.messages.deliver(outbox);
    if (!records.length || !this.deps.onRecorded) return;
    try {
      this.deps.onRecorded(release, records);
    } catch (error) {
      this.deps.logger.warn(`Reporting the records of release ${release.id} failed: ${errorText(error)}`);
    }
  }
}
