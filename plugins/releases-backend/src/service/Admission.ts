import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, RELATION_OWNED_BY, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  CreateReleaseRequest,
  ReleasePlan,
  RiskAssessment,
  RELEASE_PILOT_ANNOTATION_PREFIX,
  RELEASE_PILOT_EXPERIMENTS_ANNOTATION,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import { DEFAULT_MINIMUMS, lessCarefulThan, minimumsProblems, PlanCatalog } from '@release-pilot/plugin-releases-core';
import { annotationProblems, ReleaseTarget, targetAnnotationRules } from '@release-pilot/plugin-releases-node';
import { TargetRegistry } from '../driver/TargetRegistry';
import { RiskService } from '../risk/RiskService';
import { claimConflicts, disallowedAnnotations, regionAnnotationProblems } from './annotationProblems';
import { CatalogReader, isUser } from './CatalogReader';

/** What admission decided for a release request that may go ahead. */
export interface Admitted {
  entityRef: string;
  owner?: string;
  annotations: Record<string, string>;
  /** The entity's Release Pilot annotations, which the release keeps. */
  releaseAnnotations: Record<string, string>;
  metadata: NonNullable<CreateReleaseRequest['metadata']>;
  target: ReleaseTarget;
  targetName: string;
  plan: ReleasePlan;
  assessment: RiskAssessment;
  /** The service's traffic now and its usual error rate, when the target's metric provider says. */
  traffic: { rps?: number; errorRate?: number };
}

/**
 * Admission, one pipeline for a release request (starting it, or previewing its risk): the entity
 * (parsed, read, authorized), its target and the annotation values the target may use, the change's
 * features, the risk assessment, and the plan the risk shapes (or the requested one, checked against
 * the risk's and the target's minimums). Nothing is stored; whatever fails is a 4xx that says why.
 */
export class Admission {
  constructor(private readonly deps: { catalog: CatalogReader; targets: TargetRegistry; plans: PlanCatalog; risk: RiskService }) {}

  /**
   * What a release request would do, without storing anything: the entity (validated, with its
   * annotation and target), the predicted risk with its reasons, and the plan the risk shaped.
   */
  async admit(request: CreateReleaseRequest, actor: string, credentials: BackstageCredentials, authorize: (entityRef: string) => Promise<void>): Promise<Admitted> {
    let entityRef: string;
    try {
      entityRef = stringifyEntityRef(
        parseEntityRef(request.entityRef, { defaultKind: 'component', defaultNamespace: 'default' }),
      );
    } catch (error) {
      throw new InputError(`Invalid entityRef '${request.entityRef}': ${(error as Error).message}`);
    }
    const entity = await this.deps.catalog.entity(entityRef, credentials);
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
    const [regionPart] = regionAnnotationProblems(entityRef, annotations, undefined);
    if (regionPart) throw new InputError(`Entity ${entityRef}: ${regionPart}`);
    const target = this.deps.targets.get(targetName);
    const [regionProblem] = regionAnnotationProblems(entityRef, annotations, target);
    if (regionProblem) throw new InputError(regionProblem.startsWith('Entity') ? regionProblem : `Entity ${entityRef}: ${regionProblem}`);
    // Values the target's providers would put into a command, a query or a URL are checked before
    // anything reads them, and only the values the target allows this entity are its to set.
    const unusable = [...annotationProblems(annotations, targetAnnotationRules(target)), ...disallowedAnnotations(entityRef, annotations, target)];
    if (unusable.length) {
      throw new InputError(`Entity ${entityRef} has annotations target '${targetName}' cannot use: ${unusable.join(' ')}`);
    }
    const conflicts = claimConflicts(entityRef, annotations, target, await this.deps.catalog.entitiesOf(targetName));
    if (conflicts.length) {
      throw new ConflictError(`Entity ${entityRef} would release into another entity's traffic: ${conflicts.join('; ')}. Point its annotations at its own.`);
    }
    // A gate's experiments: the entity's list, else the plan's own, else the target's.
    const experimentSources = { annotation: annotations[RELEASE_PILOT_EXPERIMENTS_ANNOTATION], target: { name: targetName, ids: target.experiments ?? [] } };
    const withExperiments = (plan: ReleasePlan) => this.deps.plans.withGateExperiments(plan, experimentSources);
    const basePlan = withExperiments(this.deps.plans.resolve(request.plan, annotations[RELEASE_PILOT_PLAN_ANNOTATION]));
    const releaseAnnotations = Object.fromEntries(
      Object.entries(annotations).filter(([key]) => key.startsWith(RELEASE_PILOT_ANNOTATION_PREFIX)),
    );
    const metadata = request.metadata ?? {};
    const { risk } = this.deps;
    // What the server can know, it derives: the traffic from the target's metric provider (never
    // the request's metadata), and the author from the caller. Only a pipeline (a token without a
    // user) names the author it releases for; a person is always their own author.
    const traffic = await risk.traffic(target.metricProvider, { entityRef, releaseId: 'risk', version: request.version, annotations: releaseAnnotations });
    const trafficRatio = traffic.ratio;
    const author = !isUser(credentials) && typeof metadata.author === 'string' && metadata.author ? metadata.author : actor;
    const features = await risk.features({ entityRef, author, metadata, trafficRatio });
    const owner =
      entity.relations?.find(r => r.type === RELATION_OWNED_BY)?.targetRef ??
      (typeof entity.spec?.owner === 'string'
        ? stringifyEntityRef(parseEntityRef(entity.spec.owner, { defaultKind: 'group', defaultNamespace: entity.metadata.namespace ?? 'default' }))
        : undefined);
    const assessment = risk.assess(features, risk.thresholdFor(annotations, owner));
    const minimums = target.minimums ?? DEFAULT_MINIMUMS;
    const riskPlan = risk.shapePlan(withExperiments(this.deps.plans.resolve(undefined, annotations[RELEASE_PILOT_PLAN_ANNOTATION])), assessment, minimums);
    const shaped = request.plan !== undefined ? { plan: basePlan, reason: `plan '${basePlan.name}' was requested` } : riskPlan;
    assessment.plan = { name: shaped.plan.name, reason: shaped.reason };
    // A plan of the caller's choosing may not be less careful than the risk's without a permission.
    const lessCareful = request.plan !== undefined ? lessCarefulThan(shaped.plan, riskPlan.plan) : [];
    if (lessCareful.length) assessment.planOverride = { shaped: riskPlan.plan.name, lessCareful };
    if (shaped.plan.gate && !target.resilience) {
      throw new InputError(
        `Plan '${shaped.plan.name}' begins with a resilience gate, but target '${targetName}' has no fault injector and synthetic load for it; choose a plan without 'gate', or a target with them`,
      );
    }
    const short = minimumsProblems(shaped.plan, minimums, targetName);
    if (short.length) {
      throw new InputError(`Plan '${shaped.plan.name}' asks too little for target '${targetName}': ${short.join('; ')}. Lengthen its steps, or choose another plan.`);
    }
    return { entityRef, owner, annotations, releaseAnnotations, metadata, target, targetName, plan: shaped.plan, assessment, traffic: { rps: traffic.rps, errorRate: traffic.errorRate } };
  }
}
