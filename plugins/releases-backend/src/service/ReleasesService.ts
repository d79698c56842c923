import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  CreateReleaseRequest,
  ListReleasesQuery,
  PlanList,
  Release,
  ReleaseAction,
  ReleaseDetails,
  ReleaseList,
  RELEASE_PILOT_ANALYSIS_ANNOTATION,
  RELEASE_PILOT_ANNOTATION_PREFIX,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import { randomUUID } from 'node:crypto';
import { JudgeCatalog } from '../analysis/JudgeCatalog';
import { Clock } from '../engine/clock';
import { PlanCatalog } from '../engine/plans';
import { ReleasesStore } from '../database/ReleasesStore';
import { ReleaseDriver } from '../driver/ReleaseDriver';
import { TargetRegistry } from '../driver/TargetRegistry';

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
    },
  ) {}

  /** Validates the entity, its annotation, target and plan, then stores a pending release. */
  async createRelease(
    request: CreateReleaseRequest,
    actor: string,
    credentials: BackstageCredentials,
    authorize: (entityRef: string) => Promise<void>,
  ): Promise<Release> {
    let entityRef: string;
    try {
      entityRef = stringifyEntityRef(
        parseEntityRef(request.entityRef, { defaultKind: 'component', defaultNamespace: 'default' }),
      );
    } catch (error) {
      throw new InputError(`Invalid entityRef '${request.entityRef}': ${(error as Error).message}`);
    }
    const entity = await this.deps.catalog.getEntityByRef(entityRef, { credentials });
    if (!entity) {
      throw new NotFoundError(`Entity ${entityRef} was not found in the catalog`);
    }
    await authorize(entityRef);
    const annotations = entity.metadata.annotations ?? {};
    const targetName = annotations[RELEASE_PILOT_TARGET_ANNOTATION];
    if (!targetName) {
      throw new InputError(
        `Entity ${entityRef} has no '${RELEASE_PILOT_TARGET_ANNOTATION}' annotation; add it to name the target its releases go through`,
      );
    }
    const target = this.deps.targets.get(targetName);
    const plan = this.deps.plans.resolve(
      request.plan,
      annotations[RELEASE_PILOT_PLAN_ANNOTATION],
    );
    const analysis = annotations[RELEASE_PILOT_ANALYSIS_ANNOTATION] ?? target.analysis;
    this.deps.judges.validate(analysis);
    const now = this.deps.clock.now().toISOString();
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
      createdAt: now,
      updatedAt: now,
      metadata: request.metadata ?? {},
      annotations: Object.fromEntries(
        Object.entries(annotations).filter(([key]) => key.startsWith(RELEASE_PILOT_ANNOTATION_PREFIX)),
      ),
    };
    await this.deps.store.createRelease(release, {
      at: now,
      actor,
      type: 'created',
      message: `Release of ${release.version} requested with plan '${plan.name}' (${plan.steps.map(s => `${s.weight}%`).join(' > ')})`,
    });
    return release;
  }

  listPlans(): PlanList {
    return this.deps.plans.list();
  }

  listReleases(query: ListReleasesQuery): Promise<ReleaseList> {
    return this.deps.store.listReleases(query);
  }

  async getRelease(id: string): Promise<ReleaseDetails> {
    const release = await this.deps.store.getRelease(id);
    const [steps, timeline, samples] = await Promise.all([
      this.deps.store.listSteps(id),
      this.deps.store.listEvents(id),
      this.deps.store.listSamples(id, { limit: 2000 }),
    ]);
    return { ...release, steps, timeline, samples };
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
    return this.deps.driver.applyUserAction(id, action, actor, reason);
  }
}
