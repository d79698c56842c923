import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  PlanList,
  PlanStep,
  planStepsSchema,
  ReleasePlan,
  ResilienceExperiment,
  resilienceExperimentSchema,
  resilienceGateSchema,
  warmUpSecondsSchema,
  watchSecondsSchema,
} from '@release-pilot/plugin-releases-common';
import { describeConfigIssues, parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

/** The built-in plan: canary weights 1, 5, 10, 25, 50, 100 %, a minute and 100 canary requests each, then a 10-minute watch. */
export const DEFAULT_PLAN: ReleasePlan = {
  name: 'default',
  steps: [1, 5, 10, 25, 50, 100].map(weight => ({
    weight,
    minDurationSeconds: 60,
    minCanaryRequests: 100,
  })),
  watchSeconds: 600,
};

const watchSeconds = watchSecondsSchema.default(0);
/** Every strategy may let a new canary warm up before it is judged. */
const warmUpSeconds = warmUpSecondsSchema.optional();
const seconds = z.number().int().min(0).max(86400);
const requests = z.number().int().min(0).default(0);
/** Every strategy may begin with a resilience gate. */
const gate = resilienceGateSchema.optional();

/** A plan in config: explicit canary steps, or a strategy whose steps are derived from a few numbers. */
const planConfigSchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('canary').default('canary'), steps: planStepsSchema, watchSeconds, warmUpSeconds, gate }),
  z.strictObject({
    strategy: z.literal('blueGreen'),
    /** Seconds the new version is analysed on the router's preview path, with no user traffic. */
    previewSeconds: seconds,
    /** Preview requests needed before the switch (0 where the router has no preview path). */
    previewRequests: requests,
    /** Seconds after the switch the service is watched, with the old version kept for the switch back. */
    bakeSeconds: seconds,
    warmUpSeconds,
    gate,
  }),
  z.strictObject({
    strategy: z.literal('progressive'),
    /** Canary weight added per step: 10 gives 10, 20, ..., 100. */
    stepPercent: z.number().int().min(1).max(100),
    stepSeconds: seconds,
    minCanaryRequests: requests,
    watchSeconds,
    warmUpSeconds,
    gate,
  }),
  z.strictObject({
    strategy: z.literal('rolling'),
    /** Batches of instances replaced one after the other; each is a step of 100/batches %. */
    batches: z.number().int().min(1).max(50),
    batchSeconds: seconds,
    minCanaryRequests: requests,
    watchSeconds,
    warmUpSeconds,
    gate,
  }),
]);

type PlanConfig = z.infer<typeof planConfigSchema>;

/** The steps a configured plan stands for, with its warm-up. */
function planFromConfig(name: string, plan: PlanConfig): ReleasePlan {
  const steps = stepsFromConfig(name, plan);
  return { ...steps, ...(plan.warmUpSeconds ? { warmUpSeconds: plan.warmUpSeconds } : {}), ...(plan.gate ? { gate: plan.gate } : {}) };
}

function stepsFromConfig(name: string, plan: PlanConfig): ReleasePlan {
  switch (plan.strategy) {
    case 'canary':
      return { name, steps: plan.steps, watchSeconds: plan.watchSeconds };
    case 'blueGreen':
      return {
        name,
        strategy: 'blueGreen',
        steps: [
          { weight: 0, minDurationSeconds: plan.previewSeconds, minCanaryRequests: plan.previewRequests },
          { weight: 100, minDurationSeconds: 0, minCanaryRequests: 1 },
        ],
        watchSeconds: plan.bakeSeconds,
      };
    case 'progressive': {
      const weights: number[] = [];
      for (let w = plan.stepPercent; w < 100; w += plan.stepPercent) weights.push(w);
      weights.push(100);
      return {
        name,
        strategy: 'progressive',
        steps: weights.map(weight => ({ weight, minDurationSeconds: plan.stepSeconds, minCanaryRequests: plan.minCanaryRequests })),
        watchSeconds: plan.watchSeconds,
      };
    }
    case 'rolling':
      return {
        name,
        strategy: 'rolling',
        steps: Array.from({ length: plan.batches }, (_, i) => ({
          weight: i + 1 === plan.batches ? 100 : Math.round((100 * (i + 1)) / plan.batches),
          minDurationSeconds: plan.batchSeconds,
          minCanaryRequests: plan.minCanaryRequests,
        })),
        watchSeconds: plan.watchSeconds,
      };
    default:
      throw new Error(`Unknown plan strategy`);
  }
}

/** Named plans from `releases.plans`, plus the built-in `default`. */
/** A name in `releases.experiments` (and in `release-pilot.io/experiments`). */
export const EXPERIMENT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Where a release's gate experiments come from, besides its plan. */
export interface ExperimentSources {
  /** The entity's `release-pilot.io/experiments`, unparsed. */
  annotation?: string;
  /** The target's `releases.targets.<name>.experiments`. */
  target?: { name: string; ids: readonly string[] };
}

export class PlanCatalog {
  private constructor(
    private readonly plans: Map<string, ReleasePlan>,
    private readonly defaultName: string,
    private readonly experiments: Map<string, ResilienceExperiment> = new Map(),
  ) {}

  /** The names in `releases.experiments`. */
  experimentIds(): string[] {
    return [...this.experiments.keys()].sort();
  }

  /** The named experiments, or an InputError naming what is unknown and what is known. */
  experimentsNamed(ids: readonly string[], where: string): ResilienceExperiment[] {
    const unknown = ids.filter(id => !this.experiments.has(id));
    if (unknown.length) {
      throw new InputError(`${where} names unknown experiments: ${unknown.join(', ')}; known (releases.experiments): ${this.experimentIds().join(', ') || 'none'}`);
    }
    return ids.map(id => this.experiments.get(id)!);
  }

  /**
   * The plan with its gate's experiments: the entity's list if it has one, else the plan's own,
   * else the target's. A gate left without experiments, or one they do not fit (a fault no longer
   * than the calibration, a name twice), is an InputError.
   */
  withGateExperiments(plan: ReleasePlan, sources: ExperimentSources): ReleasePlan {
    if (!plan.gate) return plan;
    let experiments = plan.gate.experiments;
    if (sources.annotation !== undefined) {
      const ids = sources.annotation.split(',').map(id => id.trim()).filter(Boolean);
      const bad = ids.find(id => !EXPERIMENT_ID.test(id));
      if (bad !== undefined || ids.length === 0) {
        throw new InputError(`Annotation release-pilot.io/experiments must list experiment names (lowercase letters, digits, dashes), comma-separated; got '${sources.annotation.slice(0, 100)}'`);
      }
      experiments = this.experimentsNamed(ids, 'Annotation release-pilot.io/experiments');
    } else if (experiments.length === 0 && sources.target?.ids.length) {
      experiments = this.experimentsNamed(sources.target.ids, `releases.targets.${sources.target.name}.experiments`);
    }
    if (experiments.length === 0) {
      throw new InputError(
        `Plan '${plan.name}' begins with a resilience gate but lists no experiments, and neither the entity (annotation release-pilot.io/experiments) nor target '${sources.target?.name ?? ''}' (releases.targets.<name>.experiments) lists any`,
      );
    }
    const checked = resilienceGateSchema.safeParse({ ...plan.gate, experiments });
    if (!checked.success) {
      throw new InputError(`The resilience gate of plan '${plan.name}' does not fit its experiments: ${checked.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return { ...plan, gate: { ...plan.gate, experiments } };
  }

  /** Reads and validates `releases.plans` and `releases.defaultPlan`; throws on invalid config. */
  static fromConfig(config: Config): PlanCatalog {
    const plans = new Map<string, ReleasePlan>([[DEFAULT_PLAN.name, DEFAULT_PLAN]]);
    const plansConfig = config.getOptionalConfig('releases.plans');
    for (const name of plansConfig?.keys() ?? []) {
      const plan = parseConfigBlock(planConfigSchema, plansConfig!.getConfig(name), `releases.plans.${name}`);
      plans.set(name, planFromConfig(name, plan));
    }
    const defaultName = config.getOptionalString('releases.defaultPlan') ?? DEFAULT_PLAN.name;
    if (!plans.has(defaultName)) {
      throw new Error(
        `Invalid config releases.defaultPlan: no plan named '${defaultName}'; known plans: ${[...plans.keys()].join(', ')}`,
      );
    }
    const experiments = new Map<string, ResilienceExperiment>();
    const experimentsConfig = config.getOptionalConfig('releases.experiments');
    for (const id of experimentsConfig?.keys() ?? []) {
      if (!EXPERIMENT_ID.test(id)) throw new Error(`Invalid config releases.experiments.${id}: an experiment's name is lowercase letters, digits and dashes`);
      const block = experimentsConfig!.getConfig(id);
      const parsed = resilienceExperimentSchema.safeParse({ name: id, ...(block.get() as object) });
      if (!parsed.success) throw new Error(`Invalid config ${describeConfigIssues(parsed.error, `releases.experiments.${id}`)}`);
      experiments.set(id, parsed.data);
    }
    return new PlanCatalog(plans, defaultName, experiments);
  }

  names(): string[] {
    return [...this.plans.keys()].sort();
  }

  /** Every named plan and the default's name. */
  list(): PlanList {
    return {
      defaultPlan: this.defaultName,
      plans: this.names().map(name => this.plans.get(name)!),
    };
  }

  /**
   * The plan for a release: inline steps, else the named plan (request, then entity annotation),
   * else the configured default. Unknown names are an InputError.
   */
  resolve(
    requested: string | { steps: PlanStep[]; watchSeconds?: number; warmUpSeconds?: number; gate?: ReleasePlan['gate'] } | undefined,
    annotated?: string,
  ): ReleasePlan {
    if (requested && typeof requested === 'object') {
      const warmUp = requested.warmUpSeconds;
      return {
        name: 'custom',
        steps: requested.steps,
        watchSeconds: requested.watchSeconds ?? 0,
        ...(warmUp ? { warmUpSeconds: warmUp } : {}),
        ...(requested.gate ? { gate: requested.gate } : {}),
      };
    }
    const name = requested ?? annotated ?? this.defaultName;
    const plan = this.plans.get(name);
    if (!plan) {
      throw new InputError(
        `Unknown plan '${name}'; known plans: ${this.names().join(', ')}`,
      );
    }
    return plan;
  }
}
