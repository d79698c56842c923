import type { z as zod } from 'zod/v3';
import {
  Release,
  ReleaseDetails,
  ReleasePreview,
  RiskAssessment,
  Verdict,
} from '@release-pilot/plugin-releases-common';

/**
 * What the actions answer, for an agent to read: a release in a few fields, its risk with the
 * reasons, and the judge's latest verdict with the evidence per metric. The HTTP API answers the
 * whole stored release; an agent gets what it needs to decide.
 */

const STATES = [
  'pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting',
  'succeeded', 'rolling_back', 'rolled_back', 'failed',
] as const;
const OUTCOMES = ['pass', 'warn', 'fail', 'inconclusive'] as const;

export const riskSchema = (z: typeof zod) =>
  z.object({
    probability: z.number().describe('Predicted probability (0-1) that the release fails'),
    threshold: z.number().describe('Above this the release is blocked unless overridden'),
    blocked: z.boolean(),
    model: z.enum(['forest', 'prior']),
    reasons: z.array(z.object({ text: z.string(), effect: z.number().describe('Probability points this reason adds') })),
    unknown: z.array(z.string()).optional().describe('What the prediction had to do without'),
    plan: z.object({ name: z.string(), reason: z.string() }).optional().describe('The plan the risk chose, and why'),
  });

export const verdictSchema = (z: typeof zod) =>
  z.object({
    at: z.string(),
    kind: z.enum(['canary', 'watch']),
    outcome: z.enum(OUTCOMES),
    summary: z.string(),
    evidence: z.array(
      z.object({
        metric: z.string(),
        outcome: z.enum(OUTCOMES),
        canary: z.number().nullable(),
        baseline: z.number().nullable(),
        canaryRequests: z.number(),
        baselineRequests: z.number(),
        rule: z.string().describe('The rule that decided, in words'),
        estimate: z.number().optional().describe('Canary/baseline ratio over the release so far (sequential judge)'),
        lowerBound: z.number().optional().describe('Its anytime-valid lower confidence bound'),
      }),
    ),
  });

export const releaseSummarySchema = (z: typeof zod) =>
  z.object({
    id: z.string(),
    entityRef: z.string(),
    version: z.string(),
    previousVersion: z.string().optional(),
    target: z.string(),
    state: z.enum(STATES),
    plan: z.string(),
    step: z.number().int().describe('The step the release is on (1-based)'),
    steps: z.number().int(),
    canaryWeight: z.number().describe('Share of traffic (%) the canary is meant to take'),
    reason: z.string().optional().describe('Why it paused, rolled back or failed'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().optional(),
    risk: riskSchema(z).optional(),
    verdict: verdictSchema(z).optional(),
  });

export const timelineSchema = (z: typeof zod) =>
  z.array(z.object({ at: z.string(), actor: z.string(), type: z.string(), message: z.string() }));

export const planSchema = (z: typeof zod) =>
  z.object({
    name: z.string(),
    steps: z.array(z.object({ weight: z.number(), minDurationSeconds: z.number(), approval: z.boolean().optional() })),
    watchSeconds: z.number().optional(),
    warmUpSeconds: z.number().optional(),
    gate: z.boolean().describe('Whether chaos experiments run before the first step'),
  });

type Summary = zod.infer<ReturnType<typeof releaseSummarySchema>>;

const finite = (value: number) => (Number.isFinite(value) ? value : null);

function riskOf(risk: RiskAssessment): NonNullable<Summary['risk']> {
  return {
    probability: risk.probability,
    threshold: risk.threshold,
    blocked: risk.blocked,
    model: risk.model,
    reasons: risk.reasons.map(r => ({ text: r.text, effect: r.effect })),
    ...(risk.unknown && { unknown: risk.unknown }),
    ...(risk.plan && { plan: risk.plan }),
  };
}

function verdictOf(verdict: Verdict): NonNullable<Summary['verdict']> {
  return {
    at: verdict.at,
    kind: verdict.kind ?? 'canary',
    outcome: verdict.outcome,
    summary: verdict.summary,
    evidence: verdict.evidence.map(e => ({
      metric: e.metric,
      outcome: e.outcome,
      canary: finite(e.canary),
      baseline: finite(e.baseline),
      canaryRequests: e.canaryRequests,
      baselineRequests: e.baselineRequests,
      rule: e.rule,
      ...(e.estimate !== undefined && Number.isFinite(e.estimate) && { estimate: e.estimate }),
      ...(e.lowerBound !== undefined && Number.isFinite(e.lowerBound) && { lowerBound: e.lowerBound }),
    })),
  };
}

export function summarize(release: Release): Summary {
  return {
    id: release.id,
    entityRef: release.entityRef,
    version: release.version,
    ...(release.previousVersion && { previousVersion: release.previousVersion }),
    target: release.target,
    state: release.state,
    plan: release.plan.name,
    step: release.currentStep + 1,
    steps: release.plan.steps.length,
    canaryWeight: release.canaryWeight,
    ...(release.reason && { reason: release.reason }),
    createdBy: release.createdBy,
    createdAt: release.createdAt,
    updatedAt: release.updatedAt,
    ...(release.finishedAt && { finishedAt: release.finishedAt }),
    ...(release.risk && { risk: riskOf(release.risk) }),
    ...(release.latestVerdict && { verdict: verdictOf(release.latestVerdict) }),
  };
}

/** A release with its last `events` timeline entries, newest last. */
export function detailOf(release: ReleaseDetails, events = 30) {
  return {
    release: summarize(release),
    timeline: release.timeline.slice(-events).map(e => ({ at: e.at, actor: e.actor, type: e.type, message: e.message })),
  };
}

export function previewOf(preview: ReleasePreview) {
  const { plan } = preview;
  return {
    risk: riskOf(preview.risk),
    plan: {
      name: plan.name,
      steps: plan.steps.map(s => ({ weight: s.weight, minDurationSeconds: s.minDurationSeconds, ...(s.approval && { approval: true }) })),
      ...(plan.watchSeconds !== undefined && { watchSeconds: plan.watchSeconds }),
      ...(plan.warmUpSeconds !== undefined && { warmUpSeconds: plan.warmUpSeconds }),
      gate: Boolean(plan.gate),
    },
    ...(preview.detectable && {
      detectable: {
        ...(preview.detectable.ratio !== undefined && { ratio: preview.detectable.ratio }),
        probability: preview.detectable.probability,
        rps: preview.detectable.rps,
        baselineErrorRate: preview.detectable.baselineErrorRate,
      },
    }),
  };
}
