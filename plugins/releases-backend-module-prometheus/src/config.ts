import { Config } from '@backstage/config';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

/** Placeholders a selector may use; filled from the release's entity and version. */
export const SELECTOR_PLACEHOLDERS = ['entityName', 'namespace', 'kind', 'version'] as const;

const placeholder = /\$\{(\w+)\}/g;

function onlyPlaceholders(allowed: readonly string[]) {
  return (text: string, ctx: z.RefinementCtx) => {
    for (const [, name] of text.matchAll(placeholder)) {
      if (!allowed.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder \${${name}}; use ${allowed.map(a => `\${${a}}`).join(', ')}`,
        });
      }
    }
  };
}

const selector = z.string().min(1).superRefine(onlyPlaceholders(SELECTOR_PLACEHOLDERS));
const query = z
  .string()
  .min(1)
  .superRefine(onlyPlaceholders(['selector']))
  .refine(q => q.includes('${selector}'), { message: 'the query must contain ${selector}' });

export const prometheusOptionsSchema = z
  .object({
    type: z.literal('prometheus'),
    /** Prometheus' address, e.g. http://prometheus:9090 (no /api/v1). */
    baseUrl: z.url({ protocol: /^https?$/ }).transform(u => u.replace(/\/+$/, '')),
    /** Seconds a query may take before the tick counts as a provider error. */
    timeoutSeconds: z.number().positive().max(120).default(5),
    auth: z
      .union([
        z.object({ bearerToken: z.string().min(1) }).strict(),
        z.object({ username: z.string().min(1), password: z.string() }).strict(),
      ])
      .optional(),
    /** Label matchers of each side; entities override them with annotations. */
    selectors: z
      .object({
        canary: selector.default('service="${entityName}",track="canary"'),
        baseline: selector.default('service="${entityName}",track="stable"'),
        service: selector.default('service="${entityName}"'),
      })
      .strict()
      .default({
        canary: 'service="${entityName}",track="canary"',
        baseline: 'service="${entityName}",track="stable"',
        service: 'service="${entityName}"',
      }),
    /** Expressions of cumulative counters; `${selector}` is replaced by the side's label matchers. */
    queries: z
      .object({
        requests: query.default('http_requests_total{${selector}}'),
        errors: query.default('http_requests_total{${selector},code=~"5.."}'),
        latencyBuckets: query.default('http_request_duration_seconds_bucket{${selector}}'),
        counters: z.record(z.string().regex(/^[a-zA-Z][\w-]*$/), query).default({}),
      })
      .strict()
      .default({
        requests: 'http_requests_total{${selector}}',
        errors: 'http_requests_total{${selector},code=~"5.."}',
        latencyBuckets: 'http_request_duration_seconds_bucket{${selector}}',
        counters: {},
      }),
    /**
     * Many releases' samples in one query per metric: the samples asked for within `windowMs` (0
     * turns batching off), up to `maxReleases` in one query (one per interval they ask for). Only where every query
     * selects raw series (`metric{${selector},...}`) and both sides' selectors are equalities.
     */
    batch: z
      .object({
        windowMs: z.number().int().min(0).max(1000).default(10),
        maxReleases: z.number().int().min(2).max(2000).default(200),
      })
      .strict()
      .default({ windowMs: 10, maxReleases: 200 }),
    /** The unit of the histogram's `le` label. Default seconds (Prometheus' convention). */
    latencyUnit: z.enum(['seconds', 'milliseconds']).default('seconds'),
  })
  .strict();

export type PrometheusOptions = z.infer<typeof prometheusOptionsSchema>;

/** Reads a target's `metrics` block, throwing an Error that names each bad key under `at`. */
export function readPrometheusOptions(config: Config, at: string): PrometheusOptions {
  return parseConfigBlock(prometheusOptionsSchema, config, at);
}
