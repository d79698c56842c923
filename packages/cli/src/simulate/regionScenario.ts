import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const behaviourSchema = z.strictObject({
  errorRate: z.number().min(0).max(1),
  latencyMs: z.strictObject({ p50: z.number().positive(), p95: z.number().positive() }),
});

const regionSchema = z.strictObject({
  /** The region's requests per second on daily average. */
  rps: z.number().positive(),
  /** Its local time's offset from UTC: its daily peak comes at `peakLocalHour` local time. */
  utcOffsetHours: z.number().min(-12).max(14),
});

/** A release across regions, as `release-pilot simulate --scenario FILE` reads it when the file has `regions`. */
export const regionScenarioSchema = z.strictObject({
  name: z.string().min(1),
  tickSeconds: z.number().int().min(1).max(600).default(5),
  /** When the release starts (UTC): the hour decides where it is night. */
  startsAt: z.iso.datetime(),
  /** Daily swing of every region's traffic: 0.6 swings it between 40 % and 160 % of its average. */
  dailyAmplitude: z.number().min(0).max(0.95).default(0.6),
  peakLocalHour: z.number().min(0).max(24).default(14),
  regions: z.record(z.string().regex(/^[a-z0-9-]{1,63}$/, 'a region name: lowercase letters, digits and dashes'), regionSchema)
    .refine(r => Object.keys(r).length >= 1 && Object.keys(r).length <= 64, { message: '1 to 64 regions' }),
  baseline: behaviourSchema,
  /** A fault of the new version that shows in one region only (a regional dependency, a regional config). */
  fault: behaviourSchema.extend({ region: z.string() }).optional(),
  waves: z
    .strictObject({
      maxParallel: z.number().int().min(1).max(64).default(4),
      bakeSeconds: z.number().int().min(0).max(86400).default(0),
      failurePolicy: z.enum(['rollbackAll', 'hold']).default('rollbackAll'),
    })
    .default({ maxParallel: 4, bakeSeconds: 0, failurePolicy: 'rollbackAll' }),
});

export type RegionScenario = z.infer<typeof regionScenarioSchema>;

/** Whether a scenario file describes a release across regions. */
export function isRegionScenario(text: string): boolean {
  const raw = parseYaml(text);
  return typeof raw === 'object' && raw !== null && 'regions' in raw;
}

/** Parses and validates a region scenario; the error names the field to fix. */
export function parseRegionScenario(text: string): RegionScenario {
  const result = regionScenarioSchema.safeParse(parseYaml(text));
  if (!result.success) throw new Error(`Invalid region scenario: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  const { fault, regions } = result.data;
  if (fault && !(fault.region in regions)) {
    throw new Error(`Invalid region scenario: fault.region '${fault.region}' is not one of the regions (${Object.keys(regions).join(', ')})`);
  }
  return result.data;
}
