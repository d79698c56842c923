import { LoggerService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { Clock } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { ReleasesStore } from '../database/ReleasesStore';

/** How often a tick's router call puts back a weight saved by someone else while it was in flight. */
const MAX_WEIGHT_REPAIRS = 3;

/** What a provider call of a release carries: the entity, the release and, for router calls, its fencing token. */
export function targetContext(release: Release, fencingToken?: number): ReleaseTargetContext {
  return {
    entityRef: release.entityRef,
    releaseId: release.id,
    version: release.version,
    annotations: release.annotations ?? {},
    fencingToken,
  };
}

/**
 * What a router call of a release carries: as `targetContext`, with the version the canary side
 * runs. That is the release's own, except while a rollback of a release that reached the stable
 * side puts the previous version back: then the canary runs the previous version and takes the
 * traffic meanwhile, and a router that routes by version must send it there.
 */
export function routerContext(release: Release, fencingToken?: number): ReleaseTargetContext {
  const restoring = release.state === 'rolling_back' && release.sides?.canary;
  return { ...targetContext(release, fencingToken), version: restoring || release.version };
}

/**
 * The router as a tick's work must use it: only while this replica holds the release's lease, and
 * with every weight checked again once it has landed (see `setWeight`).
 */
export class FencedRouter {
  constructor(private readonly deps: { store: ReleasesStore; owner: string; clock: Clock; logger: LoggerService }) {}

  /** Before a router call on a tick: does this replica still hold the release's lease? */
  async mayAct(release: Release, fenced: boolean): Promise<boolean> {
    if (!fenced) return true;
    if (await this.deps.store.leases.holds(release.id, this.deps.owner, this.deps.clock.now())) return true;
    this.deps.logger.warn(`Release ${release.id}: lease lost to another replica; not touching its router`);
    return false;
  }

  /**
   * One router call, decided on the release as stored at revision `basis`. On a tick it is checked
   * again once it has landed: if anyone saved the release since (a person's rollback on another
   * replica, a new lease holder), their own router call may have landed before this one on a router
   * that cannot check fencing tokens (HAProxy), so the weight stored now is put back, and checked
   * again the same way. Whoever saves a decision writes the router after saving, so the last call
   * to land carries the last decision saved.
   */
  async setWeight(release: Release, target: ReleaseTarget, token: number | undefined, weight: number, fenced: boolean, basis: number) {
    if (!fenced) return target.trafficRouter.setCanaryWeight(routerContext(release, token), weight);
    // A call that failed may still have landed in part: then any saved change is put back too.
    const failure = await target.trafficRouter.setCanaryWeight(routerContext(release, token), weight).then(() => undefined, (error: unknown) => ({ error }));
    let written = failure ? NaN : weight;
    let seen = basis;
    for (let attempt = 0; attempt < MAX_WEIGHT_REPAIRS; attempt++) {
      const stored = await this.deps.store.getRelease(release.id);
      if (stored.revision === seen || stored.canaryWeight === written) break;
      this.deps.logger.warn(`Release ${release.id}: changed by ${stored.rollbackActor ?? 'another replica'} while its router call of ${weight}% was in flight; putting back the stored ${stored.canaryWeight}%`);
      const repaired = await target.trafficRouter.setCanaryWeight(routerContext(stored, token), stored.canaryWeight).then(() => true, () => false);
      written = repaired ? stored.canaryWeight : NaN;
      seen = stored.revision;
    }
    if (failure) throw failure.error;
    return undefined;
  }
}
