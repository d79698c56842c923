import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { RegionScenario } from './regionScenario';
import { RegionRunResult, runRegions } from './runRegions';

/** What `release-pilot simulate` prints for a region scenario (`--json`: this object). */
export interface RegionSimulation {
  scenario: string;
  tickSeconds: number;
  seed: number;
  faultRegion?: string;
  waves: RegionRunResult;
  oneAtATime: RegionRunResult;
}

/** The scenario in waves and, for comparison, region after region; with `faultRegion`, the fault shows there. */
export async function simulateRegions(
  scenario: RegionScenario,
  options: { seed: number; faultRegion?: string; plan?: ReleasePlan },
): Promise<RegionSimulation> {
  let faulty = scenario;
  if (options.faultRegion !== undefined) {
    if (!(options.faultRegion in scenario.regions)) {
      throw new Error(`--fault-region must be one of ${Object.keys(scenario.regions).join(', ')}, got '${options.faultRegion}'`);
    }
    // The checkout incident's fault, in one region only.
    const profile = scenario.fault ?? { errorRate: 0.0018, latencyMs: { p50: 900, p95: 2840 } };
    faulty = { ...scenario, fault: { ...profile, region: options.faultRegion } };
  }
  return {
    scenario: scenario.name,
    tickSeconds: scenario.tickSeconds,
    seed: options.seed,
    faultRegion: faulty.fault?.region,
    waves: await runRegions(faulty, { seed: options.seed, plan: options.plan }),
    oneAtATime: await runRegions(faulty, { seed: options.seed, plan: options.plan, oneAtATime: true }),
  };
}

const minutes = (m: number) => `${m.toFixed(1)} min`;

function describeRun(r: RegionRunResult): string {
  const outcome = r.failedRegion
    ? `${r.failedRegion} failed in wave ${r.failedWave}, ${r.state === 'rolled_back' ? 'rolled back everywhere' : r.state}`
    : r.state;
  return (
    `${outcome} after ${minutes(r.minutes)}; regions that ran the new version ${r.regionsThatRanIt} of ${Object.keys(r.regions).length}; ` +
    `final skew ${r.finalSkew}; requests served by the new version ${r.servedByNewVersion.toLocaleString('en-US')}`
  );
}

/** The simulation for people: the waves and why, both runs, and the ratio of their durations. */
export function formatRegionSimulation(s: RegionSimulation): string {
  const w = s.waves;
  const lines = [
    `${s.scenario} (${Object.keys(w.regions).length} regions, default plan, ${s.tickSeconds} s tick, seed ${s.seed}${s.faultRegion ? `, a fault in ${s.faultRegion} only` : ''})`,
    `waves: ${w.waves.map(wave => wave.join(' ')).join(' | ')}`,
    `first: ${w.order[0].region}, ${w.order[0].reason}`,
    `in waves: ${describeRun(w)}`,
    `region after region: ${describeRun(s.oneAtATime)}`,
    `first region to last: ${minutes(w.minutes)} in waves vs ${minutes(s.oneAtATime.minutes)} region after region (${(w.minutes / s.oneAtATime.minutes).toFixed(2)}x)`,
  ];
  if (s.faultRegion) {
    lines.push(
      `exposure in ${s.faultRegion}: ${w.servedInFaultyRegion.toLocaleString('en-US')} requests served by the faulty version (${w.errorsInFaultyRegion} errors) in waves, ` +
        `${s.oneAtATime.servedInFaultyRegion.toLocaleString('en-US')} (${s.oneAtATime.errorsInFaultyRegion} errors) region after region`,
    );
  }
  return `${lines.join('\n')}\n`;
}
