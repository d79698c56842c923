import { Config } from '@backstage/config';
import { DEFAULT_WAVE_OPTIONS } from '@release-pilot/plugin-releases-core';
import { AnnotationRule, MetricProvider, parseConfigBlock, RegionParts, RegionWaveOptions, TrafficRouter } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

/** A region's name: what `<target>/<region>` and the `release-pilot.io/regions` annotation hold. */
export const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `releases.targets.<name>.waves`, checked against the target's regions; defaults when absent. */
export function readWaves(block: Config, at: string, regions: string[]): RegionWaveOptions {
  const schema = z.strictObject({
    maxParallel: z.number().int().min(1).max(1000).default(DEFAULT_WAVE_OPTIONS.maxParallel),
    bakeSeconds: z.number().int().min(0).max(86_400).default(DEFAULT_WAVE_OPTIONS.bakeSeconds),
    failurePolicy: z.enum(['rollbackAll', 'hold']).default('rollbackAll'),
    waves: z.array(z.array(z.string()).min(1)).min(1).optional(),
  });
  const wavesConfig = block.getOptionalConfig('waves');
  const waves = wavesConfig ? parseConfigBlock(schema, wavesConfig, `${at}.waves`) : schema.parse({});
  if (waves.waves) {
    const named = waves.waves.flat();
    const wrong = [
      ...named.filter(r => !regions.includes(r)).map(r => `'${r}' is not one of its regions (${regions.join(', ')})`),
      ...regions.filter(r => !named.includes(r)).map(r => `'${r}' is in no wave`),
      ...named.filter((r, i) => named.indexOf(r) !== i).map(r => `'${r}' is in two waves`),
    ];
    if (wrong.length) throw new Error(`Invalid config ${at}.waves.waves: ${wrong.join('; ')}`);
  }
  return waves;
}

/** Refuses what only a region may do: a release across regions moves traffic and measures region by region. */
function refuse(target: string): never {
  throw new Error(`The target '${target}' spans regions: its releases move traffic and measure region by region, through '${target}/<region>'`);
}

/**
 * The group target's own router and metric provider: they read the annotations of every region's
 * parts (so an entity's annotations are checked against all of them), and refuse every call.
 */
export function regionGroupParts(name: string, regions: RegionParts[]): { trafficRouter: TrafficRouter; metricProvider: MetricProvider } {
  const rules = (pick: (p: RegionParts) => readonly AnnotationRule[] | undefined) => {
    const seen = new Map<string, AnnotationRule>();
    for (const rule of regions.flatMap(p => [...(pick(p) ?? [])])) seen.set(`${rule.annotation}|${rule.claim ?? ''}`, rule);
    return [...seen.values()];
  };
  return {
    trafficRouter: {
      annotationRules: rules(p => p.trafficRouter.annotationRules),
      setCanaryWeight: async () => refuse(name),
      getCanaryWeight: async () => refuse(name),
    },
    metricProvider: {
      annotationRules: [...rules(p => p.metricProvider.annotationRules), ...rules(p => p.deployer?.annotationRules)],
      getSample: async () => refuse(name),
    },
  };
}
