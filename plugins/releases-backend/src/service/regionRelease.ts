import { InputError } from '@backstage/errors';
import { RegionRollout, RELEASE_PILOT_REGIONS_ANNOTATION } from '@release-pilot/plugin-releases-common';
import { newRegionRollout, planWaves, RegionTraffic } from '@release-pilot/plugin-releases-core';
import { ReleaseTarget, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { readTraffic } from '../driver/traffic';

/** The regions of a target an entity is released in: its `release-pilot.io/regions`, checked, or all of them. */
export function regionsOf(entityRef: string, target: ReleaseTarget, annotations: Record<string, string>): string[] {
  const all = Object.keys(target.regions ?? {});
  const value = annotations[RELEASE_PILOT_REGIONS_ANNOTATION];
  if (value === undefined) return all;
  const named = value.split(',').map(r => r.trim()).filter(Boolean);
  const unknown = named.filter(r => !all.includes(r));
  if (named.length === 0 || unknown.length) {
    throw new InputError(
      `Entity ${entityRef} has an invalid '${RELEASE_PILOT_REGIONS_ANNOTATION}' annotation: ${named.length === 0 ? 'it names no region' : `${unknown.map(r => `'${r.slice(0, 64)}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a region of target '${target.name}'`}; use comma-separated names among ${all.join(', ')}`,
    );
  }
  return all.filter(r => named.includes(r));
}

/**
 * A region's traffic now (the last minute) and on daily average (the last day), from its metric
 * provider; undefined when it cannot say within 3 s (the waves then keep the configured order).
 */
async function trafficOf(region: string, target: ReleaseTarget, context: ReleaseTargetContext, now: Date): Promise<RegionTraffic | undefined> {
  const traffic = await readTraffic(target.regions![region].metricProvider, context, now, { from: new Date(now.getTime() - 86_400_000), to: now, bucketSeconds: 3600 });
  const seconds = traffic?.history.reduce((sum, b) => sum + (Date.parse(b.to) - Date.parse(b.from)) / 1000, 0) ?? 0;
  if (!traffic || seconds <= 0) return undefined;
  return { region, rps: traffic.rps, usualRps: traffic.history.reduce((sum, b) => sum + b.stats.requests, 0) / seconds };
}

/** The waves of a new release across `regions`, in the target's wave shape and the regions' traffic order. */
export async function planRegionRollout(target: ReleaseTarget, regions: string[], context: ReleaseTargetContext, now: Date): Promise<RegionRollout> {
  const waves = target.waves!;
  const traffic = waves.waves ? [] : await Promise.all(regions.map(r => trafficOf(r, target, context, now)));
  const known = traffic.filter((t): t is RegionTraffic => t !== undefined);
  // Explicit waves narrowed to the entity's regions, empty waves dropped.
  const explicit = waves.waves?.map(w => w.filter(r => regions.includes(r))).filter(w => w.length > 0);
  const plan = planWaves(regions, { maxParallel: waves.maxParallel, bakeSeconds: waves.bakeSeconds, waves: explicit }, known);
  return newRegionRollout(plan, waves.failurePolicy);
}
