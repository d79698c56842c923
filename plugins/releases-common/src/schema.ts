import { z } from 'zod';
import { FAULT_KINDS } from './types/resilience';

/** A plan step as clients send it. */
export const planStepSchema = z.strictObject({
  weight: z.number().min(0).max(100),
  /** At least a second: a step of no time judges nothing. Targets may ask more (`minimums`). */
  minDurationSeconds: z.number().int().min(1).max(86400),
  minCanaryRequests: z.number().int().min(0).default(0),
  /** A manual gate: a person resumes the release before it enters this step. */
  approval: z.boolean().optional(),
});

/** Steps must rise in weight and end at 100 %. */
export const planStepsSchema = z
  .array(planStepSchema)
  .min(1)
  .max(50)
  .superRefine((steps, ctx) => {
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].weight <= steps[i - 1].weight) {
        ctx.addIssue({
          code: 'custom',
          message: `step ${i} weight ${steps[i].weight} must be greater than step ${i - 1} weight ${steps[i - 1].weight}`,
          path: [i, 'weight'],
        });
      }
    }
    if (steps.length > 0 && steps[steps.length - 1].weight !== 100) {
      ctx.addIssue({
        code: 'custom',
        message: 'the last step must have weight 100',
        path: [steps.length - 1, 'weight'],
      });
    }
  });

/** How long the post-release watch lasts: up to a day. */
export const watchSecondsSchema = z.number().int().min(0).max(86400);

/** How long a new canary warms up before it is judged: up to an hour. */
export const warmUpSecondsSchema = z.number().int().min(0).max(3600);

/** The intensity each fault kind takes: a share, added milliseconds, a CPU load in %, or none. */
const INTENSITY_RANGE: Record<string, [number, number, string] | undefined> = {
  dependencyLatency: [1, 60_000, 'added milliseconds, 1-60000'],
  dependencyErrors: [0.001, 1, 'a share of answers, 0.001-1'],
  packetLoss: [0.001, 1, 'a share of packets, 0.001-1'],
  cpuPressure: [1, 100, 'a CPU load in %, 1-100'],
  memoryPressure: [1, 90, "a share of the host's memory in %, 1-90"],
};

/** One resilience experiment: a named fault with a duration, an intensity and a recovery limit. */
export const resilienceExperimentSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    fault: z.enum(FAULT_KINDS),
    durationSeconds: z.number().int().min(5).max(3600),
    intensity: z.number().optional(),
    recoverySeconds: z.number().int().min(2).max(3600).default(30),
  })
  .superRefine((e, ctx) => {
    const range = INTENSITY_RANGE[e.fault];
    if (e.intensity === undefined) return;
    if (!range) ctx.addIssue({ code: 'custom', message: `${e.fault} takes no intensity`, path: ['intensity'] });
    else if (e.intensity < range[0] || e.intensity > range[1]) ctx.addIssue({ code: 'custom', message: `${e.fault}'s intensity is ${range[2]}`, path: ['intensity'] });
  });

/** A plan's resilience gate: its experiments and how they are judged (defaults in the core's `DEFAULT_GATE_OPTIONS`). */
export const resilienceGateSchema = z
  .strictObject({
    /** Empty in config: the entity's (`release-pilot.io/experiments`) or the target's list fills it at admission. */
    experiments: z.array(resilienceExperimentSchema).max(20).default([]),
    margins: z
      .strictObject({
        errorRatio: z.number().min(1).max(100).default(1.5),
        latency: z.number().min(0).max(10).default(0.2),
        latencyMs: z.number().min(0).max(60_000).default(50),
        slowRatio: z.number().min(1).max(100).default(1.5),
        recoverySeconds: z.number().min(0).max(3600).default(10),
      })
      .default({ errorRatio: 1.5, latency: 0.2, latencyMs: 50, slowRatio: 1.5, recoverySeconds: 10 }),
    quantile: z.number().min(0.5).max(0.999).default(0.95),
    steadySeconds: z.number().int().min(2).max(600).default(10),
    calibrationSeconds: z.number().int().min(1).max(600).default(5),
    minRequests: z.number().int().min(1).max(1_000_000).default(100),
    alpha: z.number().gt(0).max(0.2).default(0.01),
    slo: z.strictObject({ errorRate: z.number().min(0).max(1).optional(), latencyMs: z.number().positive().optional() }).optional(),
  })
  .superRefine((gate, ctx) => {
    gate.experiments.forEach((e, i) => {
      // The latency test starts after the calibration; a killed instance has no latency to compare.
      if (e.fault !== 'instanceKill' && e.fault !== 'instancePause' && e.durationSeconds <= gate.calibrationSeconds) {
        ctx.addIssue({ code: 'custom', message: `the fault must last longer than calibrationSeconds (${gate.calibrationSeconds} s)`, path: ['experiments', i, 'durationSeconds'] });
      }
    });
    const names = gate.experiments.map(e => e.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) ctx.addIssue({ code: 'custom', message: `experiment '${twice}' is named twice`, path: ['experiments'] });
  });

/** Body of `POST /releases`. `plan` is a named plan or inline steps. */
export const createReleaseRequestSchema = z.strictObject({
  entityRef: z.string().min(1).max(500),
  version: z
    .string()
    .min(1)
    .max(128)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
      'version may contain letters, digits and . _ + - and must start with a letter or digit',
    ),
  plan: z
    .union([
      z.string().min(1).max(100),
      z.strictObject({
        steps: planStepsSchema,
        watchSeconds: watchSecondsSchema.optional(),
        warmUpSeconds: warmUpSecondsSchema.optional(),
        /** A resilience gate before the first step (its experiments, or the entity's or target's list). */
        gate: resilienceGateSchema.optional(),
      }),
    ])
    .optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** The pipeline has already deployed the version to the canary side (targets whose deployer is `none`). */
  deployed: z.boolean().optional(),
  /** Start even though the predicted risk is above the limit (needs the releases.risk.override permission). */
  riskOverride: z.strictObject({ reason: z.string().trim().min(3, 'say why the risk is acceptable (at least 3 characters)').max(500) }).optional(),
});

/** Parsed body of `POST /releases`. */
export type CreateReleaseRequest = z.infer<typeof createReleaseRequestSchema>;

/** Body of `POST /releases/:id/{pause,resume,promote,rollback}` (all optional). */
export const releaseActionRequestSchema = z.strictObject({
  reason: z.string().min(1).max(1000).optional(),
});

/** Body of `POST /releases/:id/deployed`: a pipeline confirms a side runs a version (the `none` deployer). */
export const deployedRequestSchema = z.strictObject({
  /** The side the release waits for; default the canary while deploying, the stable side while promoting or rolling back. */
  side: z.enum(['canary', 'stable']).optional(),
  /** The version the side runs now; default the version the release waits for, which must match. */
  version: z.string().min(1).max(128).optional(),
});

/** Parsed body of `POST /releases/:id/deployed`. */
export type DeployedRequest = z.infer<typeof deployedRequestSchema>;

/** Parsed body of a release action. */
export type ReleaseActionRequest = z.infer<typeof releaseActionRequestSchema>;

const entityRefListSchema = z
  .string()
  .max(5000)
  .transform(value => value.split(',').map(ref => ref.trim()).filter(Boolean))
  .pipe(z.array(z.string().min(1).max(500)).min(1, 'name at least one owner').max(100));

/** Query of `GET /releases`. */
export const listReleasesQuerySchema = z.strictObject({
  entityRef: z.string().min(1).max(500).optional(),
  /** Owners (comma-separated group refs) whose releases to list. */
  owner: entityRefListSchema.optional(),
  /** Only releases still in progress (`true`) or only finished ones (`false`). */
  active: z.enum(['true', 'false']).transform(value => value === 'true').optional(),
  /** Only releases whose predicted risk is at least this (0-1). */
  minRisk: z.coerce.number().min(0).max(1).optional(),
  state: z
    .enum([
      'pending',
      'deploying',
      'gating',
      'running',
      'paused',
      'watching',
      'promoting',
      'succeeded',
      'rolling_back',
      'rolled_back',
      'failed',
    ])
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Parsed query of `GET /releases`. */
export type ListReleasesQuery = z.infer<typeof listReleasesQuerySchema>;

/** Query of `GET /teams/overview`. */
export const teamOverviewQuerySchema = z.strictObject({
  group: z.string().min(1).max(500),
  days: z.coerce.number().int().min(1).max(365).default(30),
});

/** Parsed query of `GET /teams/overview`. */
export type TeamOverviewQuery = z.infer<typeof teamOverviewQuerySchema>;

/** The user actions on a release. */
export const RELEASE_ACTIONS = ['pause', 'resume', 'promote', 'rollback'] as const;

/** A user action on a release. */
export type ReleaseAction = (typeof RELEASE_ACTIONS)[number];

/** Body of `POST /risk/history`: deployments from before Release Pilot, to train the risk model from day one. */
export const importRiskHistorySchema = z.strictObject({
  deployments: z
    .array(
      z.strictObject({
        // As long as the history's columns hold (entity_ref and author are varchar(255)).
        entityRef: z.string().min(1).max(255),
        // Any offset and precision, stored as UTC in milliseconds (the column holds 30 characters).
        at: z.iso.datetime({ offset: true }).transform((at, ctx) => {
          const [year, month, day] = at.slice(0, 10).split('-').map(Number);
          const date = new Date(Date.UTC(year, month - 1, day));
          if (date.getUTCMonth() === month - 1 && date.getUTCDate() === day) return new Date(at).toISOString();
          ctx.addIssue({ code: 'custom', message: `${at.slice(0, 10)} is not a day of the calendar` });
          return z.NEVER;
        }),
        outcome: z.union([z.literal(0), z.literal(1)]),
        author: z.string().max(255).optional(),
        features: z.record(z.string().regex(/^[a-zA-Z]\w*$/), z.number().refine(Number.isFinite, 'a finite number')),
      }),
    )
    .min(1)
    .max(20000),
});

export type ImportRiskHistoryRequest = z.infer<typeof importRiskHistorySchema>;
