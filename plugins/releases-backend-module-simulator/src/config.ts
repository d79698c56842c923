import { Config } from '@backstage/config';
import { BehaviourProfile } from '@release-pilot/plugin-releases-core';
import {
  CHECKOUT_INCIDENT_FAULT,
  DEFAULT_BASELINE,
  FaultProfile,
  RouterOutage,
  SimulatedFleetOptions,
} from './SimulatedFleet';
import { DEFAULT_SIMULATED_DEPLOYER, DeployFailure, SimulatedDeployerOptions } from './SimulatedDeployer';

function readProfile(
  config: Config,
  key: string,
  label: string,
  fallback: BehaviourProfile,
): BehaviourProfile {
  const at = (name: string) => (key ? `${key}.${name}` : name);
  const counterConfig = config.getOptionalConfig(at('counters'));
  const counters = { ...fallback.counters };
  for (const name of counterConfig?.keys() ?? []) {
    const p = counterConfig!.getNumber(name);
    if (!(p >= 0 && p <= 1)) {
      throw new Error(`Invalid config ${label}.counters.${name}: ${p}; it is a chance per request, within 0 and 1`);
    }
    counters[name] = p;
  }
  const profile: BehaviourProfile = {
    errorRate: config.getOptionalNumber(at('errorRate')) ?? fallback.errorRate,
    latencyMs: {
      p50: config.getOptionalNumber(at('latencyMs.p50')) ?? fallback.latencyMs.p50,
      p95: config.getOptionalNumber(at('latencyMs.p95')) ?? fallback.latencyMs.p95,
    },
    ...(Object.keys(counters).length > 0 && { counters }),
  };
  if (!(profile.errorRate >= 0 && profile.errorRate <= 1)) {
    throw new Error(`Invalid config ${label}.errorRate: ${profile.errorRate}; it must be within 0 and 1`);
  }
  if (!(profile.latencyMs.p50 > 0 && profile.latencyMs.p95 > profile.latencyMs.p50)) {
    throw new Error(`Invalid config ${label}.latencyMs: p50 must be positive and p95 greater than p50`);
  }
  return profile;
}

/** Reads `releases.simulator`; without it the fleet runs the checkout incident demo. */
export function readSimulatorConfig(root: Config): SimulatedFleetOptions {
  const config = root.getOptionalConfig('releases.simulator');
  const seed = config?.getOptionalNumber('seed') ?? 1;
  const rps = config?.getOptionalNumber('rps') ?? 2000;
  if (!(rps > 0)) {
    throw new Error(`Invalid config releases.simulator.rps: ${rps}; it must be positive`);
  }
  const dailyAmplitude = config?.getOptionalNumber('dailyAmplitude') ?? 0;
  if (!(dailyAmplitude >= 0 && dailyAmplitude < 1)) {
    throw new Error(`Invalid config releases.simulator.dailyAmplitude: ${dailyAmplitude}; it must be at least 0 and below 1`);
  }
  const peakHourUtc = config?.getOptionalNumber('peakHourUtc') ?? 15;
  if (!(peakHourUtc >= 0 && peakHourUtc < 24)) {
    throw new Error(`Invalid config releases.simulator.peakHourUtc: ${peakHourUtc}; it must be within 0 and 24`);
  }
  const baseline = config
    ? readProfile(config, 'baseline', 'releases.simulator.baseline', DEFAULT_BASELINE)
    : DEFAULT_BASELINE;
  const faultConfigs = config?.getOptionalConfigArray('faults');
  const faults: FaultProfile[] = faultConfigs
    ? faultConfigs.map((fault, i) => {
        const pattern = fault.getString('versionPattern');
        let versionPattern: RegExp;
        try {
          versionPattern = new RegExp(pattern);
        } catch (error) {
          throw new Error(`Invalid config releases.simulator.faults[${i}].versionPattern: ${(error as Error).message}`);
        }
        const minWeight = fault.getOptionalNumber('minWeight');
        if (minWeight !== undefined && !(minWeight >= 0 && minWeight <= 100)) {
          throw new Error(`Invalid config releases.simulator.faults[${i}].minWeight: ${minWeight}; it must be within 0 and 100`);
        }
        const firstSeconds = fault.getOptionalNumber('firstSeconds');
        if (firstSeconds !== undefined && !(firstSeconds > 0)) {
          throw new Error(`Invalid config releases.simulator.faults[${i}].firstSeconds: ${firstSeconds}; it must be positive`);
        }
        return { versionPattern, minWeight, firstSeconds, ...readProfile(fault, '', `releases.simulator.faults[${i}]`, baseline) };
      })
    : [CHECKOUT_INCIDENT_FAULT];
  const routerOutages: RouterOutage[] = (config?.getOptionalConfigArray('routerOutages') ?? []).map((outage, i) => {
    const key = `releases.simulator.routerOutages[${i}]`;
    let versionPattern: RegExp;
    try {
      versionPattern = new RegExp(outage.getString('versionPattern'));
    } catch (error) {
      throw new Error(`Invalid config ${key}.versionPattern: ${(error as Error).message}`);
    }
    const seconds = outage.getNumber('seconds');
    if (!(seconds > 0)) throw new Error(`Invalid config ${key}.seconds: ${seconds}; it must be positive`);
    return { versionPattern, seconds };
  });
  return { seed, rps, dailyAmplitude, peakHourUtc, baseline, faults, routerOutages, deployer: readDeployer(config) };
}

/** `releases.simulator.deployer`: how long a deploy takes, and which versions fail to deploy. */
function readDeployer(config: Config | undefined): SimulatedDeployerOptions {
  const block = config?.getOptionalConfig('deployer');
  const seconds = (key: string, fallback: number) => {
    const value = block?.getOptionalNumber(key) ?? fallback;
    if (!(value >= 0 && value <= 3600)) throw new Error(`Invalid config releases.simulator.deployer.${key}: ${value}; it must be within 0 and 3600 seconds`);
    return value;
  };
  const failures = (block?.getOptionalConfigArray('failures') ?? []).map((failure, i) => {
    const key = `releases.simulator.deployer.failures[${i}]`;
    let versionPattern: RegExp;
    try {
      versionPattern = new RegExp(failure.getString('versionPattern'));
    } catch (error) {
      throw new Error(`Invalid config ${key}.versionPattern: ${(error as Error).message}`);
    }
    const kind = failure.getString('kind');
    if (kind !== 'fails' && kind !== 'neverReady') throw new Error(`Invalid config ${key}.kind: '${kind}'; use 'fails' or 'neverReady'`);
    return { versionPattern, kind } as DeployFailure;
  });
  return {
    deploySeconds: seconds('deploySeconds', DEFAULT_SIMULATED_DEPLOYER.deploySeconds),
    readySeconds: seconds('readySeconds', DEFAULT_SIMULATED_DEPLOYER.readySeconds),
    failures,
  };
}

/** One simulated region: its traffic on daily average and its time zone (its daily peak comes at the same local hour). */
export interface SimulatedRegion {
  region: string;
  rps: number;
  utcOffsetHours: number;
}

/**
 * `releases.simulator.regions`: the fleet in several regions (the `simulator-regions` target), each
 * with its own traffic and time zone. A version ending in `-faulty-in-<region>` replays the checkout
 * incident in that region only.
 */
export function readSimulatorRegions(root: Config): SimulatedRegion[] {
  const block = root.getOptionalConfig('releases.simulator.regions');
  return (block?.keys() ?? []).map(region => {
    const at = `releases.simulator.regions.${region}`;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) throw new Error(`Invalid config ${at}: a region name is 1-63 lowercase letters, digits and dashes`);
    const rps = block!.getNumber(`${region}.rps`);
    if (!(rps > 0)) throw new Error(`Invalid config ${at}.rps: ${rps}; it must be positive`);
    const utcOffsetHours = block!.getOptionalNumber(`${region}.utcOffsetHours`) ?? 0;
    if (!(utcOffsetHours >= -12 && utcOffsetHours <= 14)) throw new Error(`Invalid config ${at}.utcOffsetHours: ${utcOffsetHours}; it must be within -12 and 14`);
    return { region, rps, utcOffsetHours };
  });
}

/** The fleet's options in one region: its traffic, its peak at the fleet's peak hour local time, its own faults. */
export function regionFleetOptions(base: SimulatedFleetOptions, region: SimulatedRegion): SimulatedFleetOptions {
  const localPeak = (base.peakHourUtc ?? 15) - region.utcOffsetHours;
  return {
    ...base,
    // Each region draws its own traffic.
    seed: base.seed * 1009 + [...region.region].reduce((sum, c) => sum * 31 + c.charCodeAt(0), 0) % 1_000_003,
    rps: region.rps,
    peakHourUtc: ((localPeak % 24) + 24) % 24,
    faults: [{ ...CHECKOUT_INCIDENT_FAULT, versionPattern: new RegExp(`-faulty-in-${region.region}$`) }, ...base.faults],
  };
}
