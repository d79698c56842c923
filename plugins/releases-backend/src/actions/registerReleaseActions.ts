import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { METADATA_FEATURES } from '@release-pilot/plugin-releases-core';
import { RELEASE_ACTIONS, ReleaseAction, releasesReadPermission } from '@release-pilot/plugin-releases-common';
import type { z as zod } from 'zod/v3';
import { unlessDatabaseUnavailable } from '../database/unavailable';
import { Caller, ReleaseOperations } from '../service/ReleaseOperations';
import { detailOf, planSchema, previewOf, releaseSummarySchema, riskSchema, summarize, timelineSchema } from './outputs';

const STATES = [
  'pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting',
  'succeeded', 'rolling_back', 'rolled_back', 'failed',
] as const;

const callerOf = (credentials: BackstageCredentials): Caller => ({ credentials: async () => credentials });

/** An action's answer; the database gone is a 503, as over HTTP (the registry's router has no handler of ours). */
async function answer<T>(run: () => Promise<T>): Promise<{ output: T }> {
  try {
    return { output: await run() };
  } catch (error) {
    throw unlessDatabaseUnavailable(error);
  }
}

/** What a release request takes, for `assess-release-risk` and `start-release` (the body of `POST /releases`). */
const releaseRequestSchema = (z: typeof zod) =>
  z
    .object({
      entityRef: z.string().min(1).max(500).describe('The catalog entity to release, e.g. component:default/checkout'),
      version: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/)
        .describe('The version to release: letters, digits and . _ + -, starting with a letter or digit'),
      plan: z.string().min(1).max(100).optional().describe('A named plan; without it the risk chooses one'),
      metadata: z
        .record(z.union([z.string(), z.number(), z.boolean()]))
        .optional()
        .describe(`Facts about the change the risk model reads: ${METADATA_FEATURES.filter(f => f.name !== 'linesChanged').map(f => `${f.name} (${f.label})`).join(', ')}`),
      deployed: z.boolean().optional().describe('The pipeline already deployed the version to the canary side (targets whose deployer is none)'),
      riskOverride: z
        .object({ reason: z.string().min(3).max(500) })
        .strict()
        .optional()
        .describe('Start although the predicted risk is above the limit, saying why (needs the releases.risk.override permission)'),
    })
    .strict();

const ACTION_TEXT: Record<ReleaseAction, { title: string; description: string; destructive: boolean; idempotent: boolean }> = {
  pause: {
    title: 'Pause a release',
    description: 'Holds a running release at its current step and traffic split until it is resumed, promoted or rolled back.',
    destructive: false,
    idempotent: true,
  },
  resume: {
    title: 'Resume a release',
    description: 'Resumes a paused release; at a manual gate this approves the next step. The step is judged afresh.',
    destructive: false,
    // At a manual gate a second resume can approve the gate after it.
    idempotent: false,
  },
  promote: {
    title: 'Promote a release',
    description: 'Skips the remaining steps and analysis: the new version becomes the stable side and takes all traffic.',
    destructive: true,
    idempotent: true,
  },
  rollback: {
    title: 'Roll back a release',
    description: "Sends all traffic back to the stable side and puts the previous version back; for a finished release, only the entity's latest.",
    destructive: true,
    idempotent: true,
  },
};

/**
 * Release Pilot's actions in Backstage's actions registry, which the MCP actions backend offers to
 * AI agents as tools. Each runs the same operation as its HTTP route (`ReleaseOperations`): the same
 * parse, the same permission checks with the caller's own credentials, the same audit events.
 */
export function registerReleaseActions(registry: ActionsRegistryService, operations: ReleaseOperations): void {
  registry.register({
    name: 'list-releases',
    title: 'List releases',
    description: 'Lists releases newest first, optionally of one entity, of owners, in a state, or only active ones.',
    visibilityPermission: releasesReadPermission,
    attributes: { readOnly: true, idempotent: true },
    schema: {
      input: z =>
        z
          .object({
            entityRef: z.string().min(1).max(500).optional().describe('Only releases of this entity'),
            owners: z.array(z.string().min(1).max(500)).min(1).max(100).optional().describe('Only releases of entities these groups own'),
            active: z.boolean().optional().describe('true: only releases in progress; false: only finished ones'),
            state: z.enum(STATES).optional(),
            minRisk: z.number().min(0).max(1).optional().describe('Only releases whose predicted risk is at least this'),
            limit: z.number().int().min(1).max(100).optional().describe('At most this many (default 20)'),
            offset: z.number().int().min(0).optional(),
          })
          .strict(),
      output: z => z.object({ items: z.array(releaseSummarySchema(z)), totalCount: z.number().int(), offset: z.number().int(), limit: z.number().int() }),
    },
    action: ({ input, credentials }) =>
      answer(async () => {
        const { owners, active, ...rest } = input;
        const list = await operations.list(callerOf(credentials), {
          ...rest,
          ...(owners && { owner: owners.join(',') }),
          ...(active !== undefined && { active: String(active) }),
        });
        return { ...list, items: list.items.map(summarize) };
      }),
  });

  registry.register({
    name: 'get-release',
    title: 'Get a release',
    description: "One release: where it stands, its risk and reasons, the judge's latest verdict with the evidence per metric, and its recent timeline.",
    visibilityPermission: releasesReadPermission,
    attributes: { readOnly: true, idempotent: true },
    schema: {
      input: z => z.object({ id: z.string().uuid().describe('The release id') }).strict(),
      output: z => z.object({ release: releaseSummarySchema(z), timeline: timelineSchema(z) }),
    },
    action: ({ input, credentials }) => answer(async () => detailOf(await operations.get(callerOf(credentials), input.id))),
  });

  registry.register({
    name: 'assess-release-risk',
    title: 'Assess the risk of a release',
    description: 'Predicts the risk of releasing a version of an entity and the plan it would run, without starting anything.',
    visibilityPermission: releasesReadPermission,
    attributes: { readOnly: true, idempotent: true },
    schema: {
      input: releaseRequestSchema,
      output: z =>
        z.object({
          risk: riskSchema(z),
          plan: planSchema(z),
          detectable: z
            .object({ ratio: z.number().optional(), probability: z.number(), rps: z.number(), baselineErrorRate: z.number() })
            .optional()
            .describe('The smallest error-rate regression (canary over baseline) the plan catches with this probability at the service traffic'),
        }),
    },
    action: ({ input, credentials }) => answer(async () => previewOf(await operations.assess(callerOf(credentials), input))),
  });

  registry.register({
    name: 'start-release',
    title: 'Start a release',
    description:
      'Starts a progressive release of a version: deploys it to the canary side, shifts traffic step by step while the judge compares canary with baseline, then promotes or rolls back on its own. Blocked when the predicted risk is above the limit, unless riskOverride says why.',
    visibilityPermission: releasesReadPermission,
    attributes: { destructive: true, idempotent: false },
    schema: {
      input: releaseRequestSchema,
      output: z => z.object({ release: releaseSummarySchema(z) }),
    },
    action: ({ input, credentials }) => answer(async () => ({ release: summarize(await operations.create(callerOf(credentials), input)) })),
  });

  for (const action of RELEASE_ACTIONS) {
    const text = ACTION_TEXT[action];
    registry.register({
      name: `${action}-release`,
      title: text.title,
      description: text.description,
      visibilityPermission: releasesReadPermission,
      attributes: { destructive: text.destructive, idempotent: text.idempotent },
      schema: {
        input: z =>
          z
            .object({
              id: z.string().uuid().describe('The release id'),
              reason: z.string().min(1).max(1000).optional().describe('Why, for the timeline and the audit log'),
            })
            .strict(),
        output: z => z.object({ release: releaseSummarySchema(z) }),
      },
      action: ({ input, credentials }) =>
        answer(async () => {
          const { id, ...body } = input;
          return { release: summarize(await operations.act(callerOf(credentials), id, action, body)) };
        }),
    });
  }
}
