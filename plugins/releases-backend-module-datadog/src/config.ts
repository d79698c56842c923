import { Config } from '@backstage/config';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

/** Placeholders a scope may use; filled from the release's entity and version. */
export const SCOPE_PLACEHOLDERS = ['entityName', 'namespace', 'kind', 'version'] as const;

const placeholder = /\$\{(\w+)\}/g;

function onlyPlaceholders(allowed: readonly string[]) {
  return (text: string, ctx: z.RefinementCtx) => {
    for (const [, name] of text.matchAll(placeholder)) {
      if (!allowed.includes(name)) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder \${${name}}; use ${allowed.map(a => `\${${a}}`).join(', ')}` });
      }
    }
  };
}

const scope = z.string().min(1).superRefine(onlyPlaceholders(SCOPE_PLACEHOLDERS));
/** A Datadog metrics query of counts over time, e.g. `sum:trace.http.request.hits{${scope}}.as_count()`. */
const countQuery = z
  .string()
  .min(1)
  .max(1000)
  .superRefine(onlyPlaceholders(['scope']))
  .refine(q => q.includes('{${scope}}'), { message: 'the query must select {${scope}}' })
  // Several queries go into one request, separated by commas: a query's own commas are in its braces or parentheses.
  .refine(q => !/,(?![^{(]*[})])/.test(q), { message: 'one query only (a comma outside braces and parentheses would start another)' });

const DEFAULT_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000];

/** Latency: a histogram's buckets (OpenMetrics `upper_bound`), or a distribution's percentiles. */
const latencySchema = z.union([
  z
    .object({
      /** Counts per bucket by its `upper_bound` tag, e.g. `sum:http_request_duration_seconds.bucket{${scope}} by {upper_bound}.as_count()`. */
      buckets: countQuery.refine(q => /by \{[^}]*upper_bound[^}]*\}/.test(q), { message: 'the buckets query must group by {upper_bound}' }),
      /** The unit of `upper_bound`. */
      unit: z.enum(['seconds', 'milliseconds']).default('seconds'),
      /** Whether a bucket counts every request up to its bound (OpenMetrics' default) or only its own. */
      cumulative: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      /** A distribution metric (e.g. APM's `trace.http.request`), queried as `p<q>:<metric>{${scope}}`. */
      distribution: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,199}$/, 'a metric name (letters, digits, _ and .)'),
      unit: z.enum(['seconds', 'milliseconds']).default('seconds'),
      /** The percentiles asked; the histogram is rebuilt through them. */
      percentiles: z.array(z.union([z.literal(50), z.literal(75), z.literal(90), z.literal(95), z.literal(99)])).min(2).default([50, 75, 90, 95, 99]),
      /** The histogram's bounds (ms) the percentiles are spread over. */
      boundsMs: z.array(z.number().positive()).min(2).max(100).default(DEFAULT_BOUNDS_MS),
    })
    .strict(),
]);

export const datadogOptionsSchema = z
  .object({
    type: z.literal('datadog'),
    /** The Datadog site's API address: https://api.datadoghq.com, https://api.datadoghq.eu, https://api.us5.datadoghq.com, ... */
    site: z.url({ protocol: /^https?$/ }).transform(u => u.replace(/\/+$/, '')).default('https://api.datadoghq.com'),
    apiKey: z.string().min(1),
    applicationKey: z.string().min(1),
    /** Seconds a request may take before the tick counts as a provider error. */
    timeoutSeconds: z.number().positive().max(120).default(10),
    /**
     * Datadog's points arrive some seconds after the requests they count: each sample asks for the
     * interval this many seconds earlier, so no point is missed (detection is that much later).
     */
    delaySeconds: z.number().int().min(0).max(600).default(30),
    /** Tag scopes of each side; entities override them with annotations. */
    scopes: z
      .object({
        canary: scope.default('service:${entityName},version:${version}'),
        baseline: scope.default('service:${entityName},!version:${version}'),
        service: scope.default('service:${entityName}'),
      })
      .strict()
      .default({ canary: 'service:${entityName},version:${version}', baseline: 'service:${entityName},!version:${version}', service: 'service:${entityName}' }),
    queries: z
      .object({
        requests: countQuery.default('sum:trace.http.request.hits{${scope}}.as_count()'),
        errors: countQuery.default('sum:trace.http.request.errors{${scope}}.as_count()'),
        latency: latencySchema.default({ distribution: 'trace.http.request', unit: 'seconds', percentiles: [50, 75, 90, 95, 99], boundsMs: DEFAULT_BOUNDS_MS }),
        counters: z.record(z.string().regex(/^[a-zA-Z][\w-]*$/), countQuery).default({}),
      })
      .strict()
      .default({
        requests: 'sum:trace.http.request.hits{${scope}}.as_count()',
        errors: 'sum:trace.http.request.errors{${scope}}.as_count()',
        latency: { distribution: 'trace.http.request', unit: 'seconds', percentiles: [50, 75, 90, 95, 99], boundsMs: DEFAULT_BOUNDS_MS },
        counters: {},
      }),
    /** After a 429 without a reset header, wait this long before asking again (doubling to `maxSeconds`). */
    backoff: z
      .object({ initialSeconds: z.number().positive().max(60).default(1), maxSeconds: z.number().positive().max(3600).default(60) })
      .strict()
      .default({ initialSeconds: 1, maxSeconds: 60 }),
  })
  .strict();

export type DatadogOptions = z.infer<typeof datadogOptionsSchema>;

/** Reads a target's `metrics` block, throwing an Error that names each bad key under `at`. */
export function readDatadogOptions(config: Config, at: string): DatadogOptions {
  return parseConfigBlock(datadogOptionsSchema, config, at);
}
