import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, CustomErrorBase, InputError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  CreateReleaseRequest,
  ReleasePreview,
  ImportRiskHistoryRequest,
  ListReleasesQuery,
  PlanList,
  Release,
  ReleaseAction,
  ReleaseDetails,
  ReleaseList,
  TeamOverview,
  TeamOverviewQuery,
  judgeAnnotation,
  RELEASE_PILOT_TARGET_ANNOTATION,
  DeployedRequest,
} from '@release-pilot/plugin-releases-common';
import { SIMULATOR_TARGET } from '@release-pilot/plugin-releases-node';
import { randomUUID } from 'node:crypto';
import { Clock, JudgeCatalog, operationSide, PlanCatalog, RISK_FEATURES, RolloutActionError } from '@release-pilot/plugin-releases-core';
import { NewTimelineEvent, ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver } from '../driver/ReleaseDriver';
import { deployModeOf, TargetRegistry } from '../driver/TargetRegistry';
import { RiskService } from '../risk/RiskService';
import { ReleaseNotifier } from '../notify/ReleaseNotifier';
import { OVERVIEW_EVENT_TYPES, teamOverview } from '../overview/teamOverview';
import { claimConflicts, entityAnnotationProblems } from './annotationProblems';
import { Admission } from './Admission';
import { DetectableEffects } from './DetectableEffects';
import { CatalogReader } from './CatalogReader';
import { planRegionRollout, regionsOf } from './regionRelease';

/** A release the risk gate stopped (HTTP 409); the message says why and how to override. */
export class ReleaseBlockedError extends CustomErrorBase {
  name = 'ReleaseBlockedError' as const;
  statusCode = 409;
}

/** The use cases behind the HTTP API: start, list, show and act on releases. */
export class ReleasesService {
  constructor(
    private readonly deps: {
      store: ReleasesStore;
      driver: ReleaseDriver;
      targets: TargetRegistry;
      plans: PlanCatalog;
      judges: JudgeCatalog;
      catalog: CatalogService;
      clock: Clock;
      risk: RiskService;
      notifier?: ReleaseNotifier;
      /** The plugin's own credentials: which entities claim what is checked across the whole catalog, whoever asks. */
      ownCredentials: () => Promise<BackstageCredentials>;
      /** The engine's tick (default 5 s): what a plan can detect depends on it. */
      tickSeconds?: number;
    },
  ) {
    this.catalog = new CatalogReader(deps);
    this.admission = new Admission({ ...deps, catalog: this.catalog });
    this.detectable = new DetectableEffects(deps.tickSeconds ?? 5);
  }

  private readonly catalog: CatalogReader;
  private readonly admission: Admission;
  private readonly detectable: DetectableEffects;

  /** The risk a release request would get and the plan it would run, without starting it (the Start dialog's preview). */
  async assessRelease(
    request: CreateReleaseRequest,
    actor: string,
    credentials: BackstageCredentials,
    authorize: (entityRef: string) => Promise<void>,
  ): Promise<ReleasePreview> {
    const { assessment, plan, annotations, target, traffic } = await this.admission.admit(request, actor, credentials, authorize);
    const analysis = judgeAnnotation(annotations) ?? target.analysis;
    const detectable = this.detectable.of(this.deps.judges.judgeFor(analysis), plan, traffic);
    return { risk: assessment, plan, ...(detectable && { detectable }) };
  }

  /** Validates the entity, its annotation, target and plan, predicts the risk (gate), then stores a pending release. */
  async createRelease(
    request: CreateReleaseRequest,
    actor: string,
    credentials: BackstageCredentials,
    authorize: (entityRef: string) => Promise<void>,
    authorizeOverride: (entityRef: string) => Promise<void> = async () => {
      throw new InputError('Overriding the risk gate is not possible here');
    },
    authorizePlanOverride: (entityRef: string) => Promise<void> = authorizeOverride,
  ): Promise<Release> {
    const prepared = await this.admission.admit(request, actor, credentials, authorize);
    const { entityRef, owner, annotations, releaseAnnotations, metadata, target, targetName, plan, assessment } = prepared;
    const shaped = { reason: assessment.plan!.reason };
    if (assessment.blocked) {
      const why = assessment.reasons.slice(0, 3).map(r => r.text).join('; ');
      if (!request.riskOverride) {
        const blocked = `Predicted risk ${Math.round(100 * assessment.probability)}% is above the limit of ${Math.round(100 * assessment.threshold)}% for ${entityRef}${why ? ` (${why})` : ''}`;
        this.deps.notifier?.releaseBlocked(entityRef, request.version, owner, `${blocked}. Requested by ${actor}.`);
        throw new ReleaseBlockedError(
          `Release blocked: ${blocked.charAt(0).toLowerCase()}${blocked.slice(1)}. To release anyway, send riskOverride with a reason (needs the releases.risk.override permission).`,
        );
      }
      await authorizeOverride(entityRef);
      assessment.override = { actor, reason: request.riskOverride.reason };
    }
    if (assessment.planOverride) await authorizePlanOverride(entityRef);
    const analysis = judgeAnnotation(annotations) ?? target.analysis;
    this.deps.judges.validate(analysis);
    const now = this.deps.clock.now().toISOString();
    const deployMode = deployModeOf(target);
    if (request.deployed && deployMode !== 'confirm') {
      throw new InputError(`deployed: the target '${targetName}' deploys by itself; 'deployed' is for targets whose deployer is 'none'`);
    }
    const previousVersion = await this.stableVersionOf(entityRef);
    // A target spanning regions: the release runs in waves, each region a release of its own.
    const rollout = target.regions
      ? await planRegionRollout(target, regionsOf(entityRef, target, annotations), { entityRef, releaseId: 'waves', version: request.version, annotations: releaseAnnotations }, this.deps.clock.now())
      : undefined;
    if (rollout && request.deployed) throw new InputError(`deployed: the target '${targetName}' spans regions, each deployed on its own`);
    const release: Release = {
      id: randomUUID(),
      entityRef,
      version: request.version,
      target: targetName,
      analysis,
      state: 'pending',
      plan,
      currentStep: 0,
      canaryWeight: 0,
      stepCanaryRequests: 0,
      consecutiveProviderErrors: 0,
      revision: 0,
      createdBy: actor,
      owner,
      createdAt: now,
      updatedAt: now,
      metadata,
      annotations: releaseAnnotations,
      risk: assessment,
      deployMode,
      previousVersion,
      // The pipeline deployed the canary before it asked: the release starts its steps at once.
      ...(request.deployed ? { sides: { canary: request.version, at: now } } : {}),
      ...(rollout && { rollout, deployMode: undefined }),
    };
    const events: NewTimelineEvent[] = [
      {
        at: now,
        actor,
        type: 'created',
        message: `Release of ${release.version} requested with plan '${plan.name}' (${plan.steps.map(s => `${s.approval ? 'gate, ' : ''}${s.weight}%`).join(' > ')}); predicted risk ${Math.round(100 * assessment.probability)}% (${assessment.model}): ${shaped.reason}`,
        data: { risk: assessment.probability, plan: plan.name },
      },
    ];
    if (assessment.override) {
      events.push({
        at: now,
        actor,
        type: 'risk_override',
        message: `Risk gate overridden by ${actor}: risk ${Math.round(100 * assessment.probability)}% above the limit of ${Math.round(100 * assessment.threshold)}%. Reason: ${assessment.override.reason}`,
        data: { risk: assessment.probability, plan: plan.name },
      });
    }
    if (assessment.planOverride) {
      const { shaped: riskPlan, lessCareful } = assessment.planOverride;
      events.push({
        at: now,
        actor,
        type: 'plan_override',
        message: `Plan '${plan.name}' chosen by ${actor} instead of the risk's '${riskPlan}', less careful in ${lessCareful.join('; ')}`,
        data: { plan: plan.name, riskPlan },
      });
    }
    await this.deps.store.createRelease(release, events);
    return release;
  }

  /**
   * The version the entity's stable side should run after its finished releases: the last success,
   * or what a later rollback restored. The deployer's read-back at the start has the last word.
   */
  private async stableVersionOf(entityRef: string): Promise<string | undefined> {
    const { items } = await this.deps.store.listReleases({ entityRef, limit: 20, offset: 0 });
    for (const release of items) {
      if (release.state === 'succeeded') return release.version;
      if (release.state === 'rolled_back' && release.previousVersion) return release.previousVersion;
    }
    return undefined;
  }

  /** Which model predicts risks now, and how it did on held-out history. */
  riskModelInfo() {
    return this.deps.risk.info();
  }

  async importRiskHistory(request: ImportRiskHistoryRequest): Promise<number> {
    const known = new Set(RISK_FEATURES.map(f => f.name));
    for (const [i, d] of request.deployments.entries()) {
      const unknown = Object.keys(d.features).filter(f => !known.has(f));
      if (unknown.length) {
        throw new InputError(`deployments[${i}]: unknown feature ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
      }
    }
    await this.deps.store.risk.importDeployments(request.deployments);
    return request.deployments.length;
  }

  async retrainRisk(): Promise<void> {
    await this.deps.risk.retrain();
  }

  /** What would stop a release of the entity in its Release Pilot annotations, with the fixes (the entity page shows it). */
  async annotationProblems(entityRef: string, credentials: BackstageCredentials): Promise<{ problems: string[] }> {
    const entity = await this.catalog.entity(entityRef, credentials);
    if (!entity) throw new NotFoundError(`Entity ${entityRef} was not found in the catalog`);
    const annotations = entity.metadata.annotations ?? {};
    const problems = entityAnnotationProblems(entityRef, annotations, this.deps);
    const target = this.deps.targets.find(annotations[RELEASE_PILOT_TARGET_ANNOTATION] ?? '');
    if (target) {
      const conflicts = claimConflicts(entityRef, annotations, target, await this.catalog.entitiesOf(target.name));
      problems.push(...conflicts.map(c => `${c}: another entity's traffic; point the annotations at this entity's own.`));
    }
    return { problems };
  }

  /**
   * What an entity's annotations may name: targets, judges and plans (the scaffolder action validates
   * against it). `analyses` repeats `judges` for clients of the old name.
   */
  listTargets(): { targets: string[]; judges: string[]; analyses: string[]; plans: string[] } {
    return {
      targets: this.deps.targets.names(),
      judges: this.deps.judges.names(),
      analyses: this.deps.judges.names(),
      plans: this.deps.plans.list().plans.map(p => p.name),
    };
  }

  listPlans(): PlanList {
    return this.deps.plans.list();
  }

  listReleases(query: ListReleasesQuery): Promise<ReleaseList> {
    return this.deps.store.listReleases(query);
  }

  async getRelease(id: string): Promise<ReleaseDetails> {
    const release = await this.deps.store.getRelease(id);
    const [steps, timeline, samples, regionReleases] = await Promise.all([
      this.deps.store.listSteps(id),
      this.deps.store.listEvents(id),
      this.deps.store.listSamples(id, { limit: 2000 }),
      release.rollout ? this.deps.store.listRegionReleases(id) : undefined,
    ]);
    return { ...release, steps, timeline, samples, ...(regionReleases && { regionReleases }) };
  }

  /** A person's action, after `authorize` accepted it for the release's entity. */
  async act(
    id: string,
    action: ReleaseAction,
    actor: string,
    reason: string | undefined,
    authorize: (entityRef: string) => Promise<void>,
  ): Promise<Release> {
    const release = await this.deps.store.getRelease(id);
    await authorize(release.entityRef);
    if (release.rollout) {
      // A release across regions: a person resumes the remaining regions or rolls back everywhere;
      // pausing or promoting is for one region's release.
      if (action !== 'resume' && action !== 'rollback') {
        throw new ConflictError(`Release ${id} spans regions: ${action} one region's release (listed under regionReleases), or resume or roll back all of them here`);
      }
      try {
        return await this.deps.driver.applyRegionAction(id, action, actor);
      } catch (error) {
        if (error instanceof RolloutActionError) throw new ConflictError(error.message);
        throw error;
      }
    }
    if (action === 'rollback' && release.state === 'succeeded') {
      // Rolling a finished release back is only sound for the entity's latest: its previous
      // version is what the target's stable side still serves.
      const [latest] = (await this.deps.store.listReleases({ entityRef: release.entityRef, limit: 1, offset: 0 })).items;
      if (latest && latest.id !== release.id) {
        throw new ConflictError(
          `Only the latest release of ${release.entityRef} can be rolled back; ${latest.version} (${latest.state}) is newer than ${release.version}`,
        );
      }
    }
    return this.deps.driver.applyUserAction(id, action, actor, reason);
  }

  /** A pipeline confirms a side runs a version (targets whose deployer is `none`), after `authorize`. */
  async confirmDeployed(
    id: string,
    request: DeployedRequest,
    actor: string,
    authorize: (entityRef: string) => Promise<void>,
  ): Promise<Release> {
    const release = await this.deps.store.getRelease(id);
    await authorize(release.entityRef);
    if (release.deployMode !== 'confirm') {
      throw new ConflictError(`Release ${id} is deployed by its target '${release.target}' itself; only targets whose deployer is 'none' take a confirmation`);
    }
    const op = release.operation;
    const waitingFor = operationSide(op);
    if (!waitingFor) throw new ConflictError(`Release ${id} (${release.state.replace('_', ' ')}) is not waiting for a deploy`);
    return this.deps.driver.confirmDeployed(id, request.side ?? waitingFor, request.version ?? op!.version!, actor);
  }

  /**
   * Releases of every entity owned by a group and its child groups over the last `days` days:
   * active ones, history, DORA figures and the daily series behind the charts.
   */
  async teamOverview(query: TeamOverviewQuery, credentials: BackstageCredentials): Promise<TeamOverview> {
    let group: string;
    try {
      group = stringifyEntityRef(parseEntityRef(query.group, { defaultKind: 'group', defaultNamespace: 'default' }));
    } catch (error) {
      throw new InputError(`Invalid group '${query.group}': ${(error as Error).message}`);
    }
    if (parseEntityRef(group).kind !== 'group') {
      throw new InputError(`Invalid group '${query.group}': expected a Group entity ref like group:default/team-checkout`);
    }
    const groups = await this.catalog.descendantGroups(group, credentials);
    const to = this.deps.clock.now();
    const from = new Date(to.getTime() - query.days * 86_400_000);
    // A simulated release is the demo's: where the simulator target is off, it never counts.
    const exceptTarget = this.deps.targets.find(SIMULATOR_TARGET) === undefined ? SIMULATOR_TARGET : undefined;
    const releases = (await this.deps.store.listOwnedReleases(groups, from.toISOString(), { exceptTarget }))
      .map(r => ({ ...r, judgeState: undefined }));
    const moments = await this.deps.store.firstEventTimes(releases.map(r => r.id), OVERVIEW_EVENT_TYPES);
    return teamOverview({ group, groups, from, to, releases, moments });
  }


}
