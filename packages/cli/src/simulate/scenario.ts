import { planStepsSchema } from '@release-pilot/plugin-releases-common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const latencySchema = z.strictObject({
  p50: z.number().positive(),
  p95: z.number().positive(),
});

const behaviourSchema = z
  .strictObject({
    errorRate: z.number().min(0).max(1),
    latencyMs: latencySchema,
  })
  .refine(b => b.latencyMs.p95 > b.latencyMs.p50, { message: 'latencyMs.p95 must be greater than p50' });

const stepSchema = z.strictObject({
  weight: z.number().min(0).max(100),
  seconds: z.number().int().min(1).max(86400),
  minCanaryRequests: z.number().int().min(0).optional(),
});

/** A release scenario, as `release-pilot simulate --scenario FILE` reads it (YAML). */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  tickSeconds: z.number().int().min(1).max(600).default(1),
  /** How long the router takes to apply a weight: each call between half and one and a half times this. */
  router: z.strictObject({ latencyMs: z.number().min(0).max(60_000) }).default({ latencyMs: 50 }),
  traffic: z.strictObject({ rps: z.number().positive() }),
  baseline: behaviourSchema,
  canary: z
    .strictObject({
      fault: z
        .strictObject({
          atWeight: z.number().min(0).max(100).optional(),
          afterSeconds: z.number().min(0).optional(),
          /** The fault shows only in the canary's first seconds (a cold start, which passes). */
          firstSeconds: z.number().positive().optional(),
          errorRate: z.number().min(0).max(1).optional(),
          latencyMs: latencySchema.optional(),
        })
        .optional(),
    })
    .default({}),
  plan: z.strictObject({ steps: z.array(stepSchema).min(1), warmUpSeconds: z.number().int().min(0).max(3600).optional() }),
  judge: z.string().default('default'),
});

/** A validated scenario. */
export type Scenario = z.infer<typeof scenarioSchema>;

/** Parses and validates a scenario; the error names the field to fix. */
export function parseScenario(text: string): Scenario {
  const raw = parseYaml(text);
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(`Invalid scenario: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  }
  const scenario = result.data;
  const steps = planStepsSchema.safeParse(
    scenario.plan.steps.map(s => ({ weight: s.weight, minDurationSeconds: s.seconds, minCanaryRequests: s.minCanaryRequests ?? 0 })),
  );
  if (!steps.success) {
    throw new Error(`Invalid scenario plan: ${z.prettifyError(steps.error).replace(/\n/g, '; ')}`);
  }
  return scenario;
}
