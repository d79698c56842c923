import { Release } from '@release-pilot/plugin-releases-common';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { RouterServer, sideKey } from './shared';

/** What the checks of the releases across regions count; every figure must be 0. */
export interface RegionCheckFigures {
  regionReleases: number;
  regionReleasesSucceeded: number;
  regionReleasesRolledBack: number;
  /** Regions a release left (started or rolled back) that its coordinator's record does not match. */
  regionStatesLost: number;
  /** A wave started twice, or a region given a second release within one release. */
  wavesRunTwice: number;
  /** Regions whose stable side ran another version than the rest when a release ended, or at the end of the run. */
  regionsSkewed: number;
  /** A region's release that succeeded without its version on the stable side, or was rolled back leaving it there. */
  regionWrongSides: number;
}

/** The version a region's stable side ran at `at` (by the shared deployer's log), or `initial` before any change. */
function stableAt(router: RouterServer, key: string, at: string, initial: string): string | undefined {
  const changes = router.changes.filter(c => c.entityRef === key && c.side === 'stable' && Date.parse(c.at) <= Date.parse(at));
  return changes.length ? changes[changes.length - 1].version : initial;
}

/**
 * The reliability run's checks of its releases across regions, against the store and the shared
 * router's log: every region's state is where the coordinator recorded it, no wave or region ran
 * twice, and when each release ended every region ran the same version (the new one if it
 * succeeded, the previous one if not), as does every region at the end of the run.
 */
export async function checkRegionReleases(
  store: ReleasesStore,
  router: RouterServer,
  parents: Release[],
  children: Release[],
  entities: string[],
  firstStable: string,
  problems: string[],
): Promise<RegionCheckFigures> {
  const figures: RegionCheckFigures = {
    regionReleases: parents.length,
    regionReleasesSucceeded: parents.filter(p => p.state === 'succeeded').length,
    regionReleasesRolledBack: parents.filter(p => p.state === 'rolled_back').length,
    regionStatesLost: 0,
    wavesRunTwice: 0,
    regionsSkewed: 0,
    regionWrongSides: 0,
  };
  for (const parent of parents) {
    const rollout = parent.rollout!;
    const events = await store.listEvents(parent.id);
    const waves = events.filter(e => e.type === 'wave_started').map(e => (e.data as { wave: number }).wave);
    if (new Set(waves).size !== waves.length || waves.some((w, i) => w !== i + 1)) {
      figures.wavesRunTwice++;
      problems.push(`${parent.id}: waves started ${waves.join(',')}`);
    }
    const mine = children.filter(c => c.parentId === parent.id);
    for (const region of Object.keys(rollout.regions)) {
      const runs = mine.filter(c => c.region === region);
      const status = rollout.regions[region];
      if (runs.length > 1) {
        figures.wavesRunTwice++;
        problems.push(`${parent.id}: region ${region} released ${runs.length} times`);
      }
      const run = runs[0];
      const recorded = status.state === 'waiting' ? !run : run && status.releaseId === run.id && status.state === run.state;
      if (!recorded) {
        figures.regionStatesLost++;
        problems.push(`${parent.id}: region ${region} recorded ${status.state} (${status.releaseId ?? 'no release'}), its release is ${run ? `${run.id} ${run.state}` : 'missing'}`);
      }
      if (parent.state === 'succeeded' ? run?.state !== 'succeeded' : run?.state === 'succeeded') {
        figures.regionStatesLost++;
        problems.push(`${parent.id}: ${parent.state}, but region ${region} ${run?.state ?? 'never started'}`);
      }
      if (parent.finishedAt && (parent.state === 'succeeded' || parent.state === 'rolled_back')) {
        const expected = parent.state === 'succeeded' ? parent.version : parent.previousVersion;
        const ran = stableAt(router, sideKey(parent.entityRef, region), parent.finishedAt, firstStable);
        if (ran !== expected) {
          figures.regionsSkewed++;
          problems.push(`${parent.id} ${parent.state}: region ${region} ran ${ran}, not ${expected}, when it ended`);
        }
      }
    }
  }
  for (const child of children) {
    const key = sideKey(child.entityRef, child.region);
    const stableThen = child.finishedAt && stableAt(router, key, child.finishedAt, firstStable);
    if ((child.state === 'succeeded' && stableThen !== child.version) || (child.state === 'rolled_back' && stableThen === child.version)) {
      figures.regionWrongSides++;
      problems.push(`${child.id} (${child.region}) ${child.state} with ${stableThen} on the stable side`);
    }
  }
  for (const entityRef of entities) {
    const last = parents.filter(p => p.entityRef === entityRef && p.state === 'succeeded').sort((x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt))[0];
    const expected = last?.version ?? firstStable;
    for (const region of Object.keys(parents.find(p => p.entityRef === entityRef)?.rollout?.regions ?? {})) {
      const key = sideKey(entityRef, region);
      const sides = router.sides.get(key);
      if (sides?.stable !== expected || router.weightOf(key) !== 0 || sides?.canaryUp) {
        figures.regionsSkewed++;
        problems.push(`${key}: ends with stable ${sides?.stable}, canary ${sides?.canaryUp ? 'up' : 'down'} at ${router.weightOf(key)}%, not ${expected} at 100%`);
      }
    }
  }
  return figures;
}
