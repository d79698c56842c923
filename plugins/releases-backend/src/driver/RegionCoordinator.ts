import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import { isActiveRelease, RegionRollout, Release, ReleaseState } from '@release-pilot/plugin-releases-common';
import { Clock, handleRolloutEvent, RegionReport, RolloutEvent, RolloutResult } from '@release-pilot/plugin-releases-core';
import { randomUUID } from 'node:crypto';
import { ReleasesStore } from '../database/ReleasesStore';
import { OutboxDispatcher } from './OutboxDispatcher';
import { deployModeOf, TargetRegistry } from './TargetRegistry';
import { errorText } from './errorText';

/** The state a release across regions shows, from where its waves stand. */
const STATE_OF: Record<RegionRollout['state'], ReleaseState> = {
  running: 'running',
  baking: 'running',
  holding: 'paused',
  rolling_back: 'rolling_back',
  succeeded: 'succeeded',
  rolled_back: 'rolled_back',
};

/** A region's release can still be rolled back (also once it succeeded). */
const ROLLBACK_FROM: readonly ReleaseState[] = ['pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting', 'succeeded'];

/**
 * The shell around the core's region coordinator: each tick it reads the regions' releases, lets
 * the coordinator decide, saves the decision (the intent) and then starts or rolls back the regions
 * it named. What it saved is reconciled on every tick, so a replica that dies between the save and
 * the calls leaves nothing undone: a started region without its release gets one (one per region:
 * the store refuses a second active release of the entity in that region), and while rolling back,
 * every region still on the new version is rolled back.
 */
export class RegionCoordinator {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      targets: TargetRegistry;
      clock: Clock;
      logger: LoggerService;
      owner: string;
      messages: OutboxDispatcher;
      /** A person's rollback of a region's release, applied as one (also after its success). */
      rollBack: (id: string, reason: string) => Promise<unknown>;
    },
  ) {}

  /** One tick of a release across regions that this replica leased. */
  async drive(parent: Release): Promise<void> {
    const children = await this.deps.store.listRegionReleases(parent.id);
    const saved = await this.decide(parent, { type: 'tick', reports: reportsOf(children) }, this.deps.owner);
    await this.reconcile(saved, children);
  }

  /**
   * A person's resume or rollback of the whole release (any replica). A tick that saved the release
   * in between makes it decide again on what the tick saved, as for a person's action on one release.
   */
  async act(parent: Release, action: 'resume' | 'rollback', actor: string): Promise<Release> {
    for (let attempt = 1; ; attempt++) {
      const current = attempt === 1 ? parent : await this.deps.store.getRelease(parent.id);
      try {
        const saved = await this.decide(current, { type: 'user', action, actor }, undefined);
        await this.reconcile(saved, await this.deps.store.listRegionReleases(parent.id));
        return saved;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 5) throw error;
      }
    }
  }

  private async decide(parent: Release, event: RolloutEvent, leaseOwner: string | undefined): Promise<Release> {
    const now = this.deps.clock.now();
    const started: Release = parent.state === 'pending' ? { ...parent, state: 'running' } : parent;
    const result: RolloutResult = handleRolloutEvent(parent.rollout!, event, now);
    const state = STATE_OF[result.rollout.state];
    const next: Release = {
      ...started,
      rollout: result.rollout,
      state,
      updatedAt: now.toISOString(),
      finishedAt: isActiveRelease(state) ? undefined : started.finishedAt ?? now.toISOString(),
      reason: result.rollout.reason ?? started.reason,
    };
    const records = [
      ...(parent.state === 'pending' ? [{ type: 'started' as const, actor: 'release-pilot', message: `Releasing ${parent.version} to ${Object.keys(parent.rollout!.regions).length} regions in ${parent.rollout!.plan.waves.length} waves` }] : []),
      ...result.records,
    ];
    if (next.state === parent.state && records.length === 0 && JSON.stringify(next.rollout) === JSON.stringify(parent.rollout)) return parent;
    const stamped = records.map(r => ({ ...r, at: now.toISOString() }));
    const outbox = this.deps.messages.entriesFor(next, records);
    await this.deps.store.saveRelease(parent, next, stamped, { ...(leaseOwner ? { leaseOwner } : {}), outbox });
    void this.deps.messages.deliver(outbox);
    for (const record of records) this.deps.logger.info(`Release ${parent.id} of ${parent.entityRef}: ${record.message}`);
    return this.deps.store.getRelease(parent.id);
  }

  /** Makes the regions match what the saved release says: started regions have a release, a rollback reaches every region. */
  private async reconcile(parent: Release, children: Release[]): Promise<void> {
    const rollout = parent.rollout!;
    const byRegion = new Map(children.map(c => [c.region!, c]));
    for (const status of Object.values(rollout.regions)) {
      if (status.state === 'waiting' || byRegion.has(status.region)) continue;
      if (rollout.state === 'rolling_back' || rollout.state === 'rolled_back') continue;
      await this.startRegion(parent, status.region, status.wave).catch(error => {
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    if (rollout.state !== 'rolling_back') return;
    for (const child of children) {
      if (!ROLLBACK_FROM.includes(child.state)) continue;
      await this.deps.rollBack(child.id, rollout.reason ?? 'the release across regions is rolled back').catch(error =>
        this.deps.logger.warn(`Release ${parent.id}: rolling back its region ${child.region} failed: ${errorText(error)}`),
      );
    }
  }

  private async startRegion(parent: Release, region: string, wave: number): Promise<void> {
    const target = this.deps.targets.get(`${parent.target}/${region}`);
    const now = this.deps.clock.now().toISOString();
    const deployMode = deployModeOf(target);
    const child: Release = {
      id: randomUUID(),
      entityRef: parent.entityRef,
      version: parent.version,
      target: target.name,
      analysis: parent.analysis,
      state: 'pending',
      plan: parent.plan,
      currentStep: 0,
      canaryWeight: 0,
      stepCanaryRequests: 0,
      consecutiveProviderErrors: 0,
      revision: 0,
      createdBy: parent.createdBy,
      owner: parent.owner,
      createdAt: now,
      updatedAt: now,
      metadata: parent.metadata,
      annotations: parent.annotations,
      risk: parent.risk,
      deployMode,
      previousVersion: parent.previousVersion,
      parentId: parent.id,
      region,
    };
    await this.deps.store.createRelease(child, {
      at: now,
      actor: 'release-pilot',
      type: 'created',
      message: `Region ${region} of the release of ${parent.version} (wave ${wave + 1} of ${parent.rollout!.plan.waves.length})`,
      data: { parentId: parent.id, region, wave: wave + 1 },
    });
  }
}

/** What each region's release reports to the coordinator. */
export function reportsOf(children: Release[]): Record<string, RegionReport> {
  return Object.fromEntries(
    children.map(c => [c.region!, { state: c.state, weight: c.canaryWeight, verdict: c.reason ?? c.latestVerdict?.summary, releaseId: c.id }]),
  );
}
