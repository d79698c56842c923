import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  PlanList,
  PlanStep,
  planStepsSchema,
  ReleasePlan,
  watchSecondsSchema,
} from '@release-pilot/plugin-releases-common';
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

/** Named plans from `releases.plans`, plus the built-in `default`. */
export class PlanCatalog {
  private constructor(
    private readonly plans: Map<string, ReleasePlan>,
    private readonly defaultName: string,
  ) {}

  /** Reads and validates `releases.plans` and `releases.defaultPlan`; throws on invalid config. */
  static fromConfig(config: Config): PlanCatalog {
    const plans = new Map<string, ReleasePlan>([[DEFAULT_PLAN.name, DEFAULT_PLAN]]);
    const plansConfig = config.getOptionalConfig('releases.plans');
    for (const name of plansConfig?.keys() ?? []) {
      const raw = plansConfig!.getConfig(name).get('steps');
      const parsed = planStepsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(
          `Invalid config releases.plans.${name}.steps: ${z.prettifyError(parsed.error)}`,
        );
      }
      const watch = watchSecondsSchema.safeParse(plansConfig!.getConfig(name).getOptional('watchSeconds') ?? 0);
      if (!watch.success) {
        throw new Error(
          `Invalid config releases.plans.${name}.watchSeconds: ${z.prettifyError(watch.error)} (seconds, 0 for no post-release watch)`,
        );
      }
      plans.set(name, { name, steps: parsed.data, watchSeconds: watch.data });
    }
    const defaultName = config.getOptionalString('releases.defaultPlan') ?? DEFAULT_PLAN.name;
    if (!plans.has(defaultName)) {
      throw new Error(
        `Invalid config releases.defaultPlan: no plan named '${defaultName}'; known plans: ${[...plans.keys()].join(', ')}`,
      );
    }
    return new PlanCatalog(plans, defaultName);
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
    requested: string | { steps: PlanStep[]; watchSeconds?: number } | undefined,
    annotated?: string,
  ): ReleasePlan {
    if (requested && typeof requested === 'object') {
      return { name: 'custom', steps: requested.steps, watchSeconds: requested.watchSeconds ?? 0 };
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
