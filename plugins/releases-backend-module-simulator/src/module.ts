import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint, SIMULATOR_TARGET } from '@release-pilot/plugin-releases-node';

/** The simulated fleet in the regions of `releases.simulator.regions`. */
export const SIMULATOR_REGIONS_TARGET = 'simulator-regions';
import { readSimulatorConfig, readSimulatorRegions, regionFleetOptions } from './config';
import { SimulatedFleet } from './SimulatedFleet';
import { SimulatedDeployer } from './SimulatedDeployer';
import { SimulatedResilience } from './SimulatedResilience';

/**
 * Registers the simulated fleet, with its simulated deployer, as the `simulator` target, but only
 * where config asks for it: a `releases.simulator` block whose `enabled` is not false. Without it
 * an entity annotated `simulator` is refused like any unknown target, and no release of it counts.
 */
export const releasesModuleSimulator = createBackendModule({
  pluginId: 'releases',
  moduleId: 'simulator',
  register(reg) {
    reg.registerInit({
      deps: {
        targets: releasesTargetsExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ targets, config, logger }) {
        const block = config.getOptionalConfig('releases.simulator');
        if (!block || block.getOptionalBoolean('enabled') === false) {
          logger.info(`The simulator target is off: ${block ? 'releases.simulator.enabled is false' : 'no releases.simulator in config'}`);
          return;
        }
        const options = readSimulatorConfig(config);
        const deployer = new SimulatedDeployer(options.deployer);
        const fleet = new SimulatedFleet(options, deployer);
        // The resilience gate's synthetic load: 50 requests/s on the canary and on a stable instance.
        const gate = new SimulatedResilience({ rps: 50, seed: options.seed, now: options.now });
        targets.addTarget({ name: SIMULATOR_TARGET, trafficRouter: fleet, metricProvider: fleet, deployer, resilience: { injector: gate, load: gate } });
        const regions = readSimulatorRegions(config);
        if (regions.length > 0) {
          const parts = Object.fromEntries(
            regions.map(region => {
              const regionDeployer = new SimulatedDeployer(options.deployer);
              const regionFleet = new SimulatedFleet(regionFleetOptions(options, region), regionDeployer);
              return [region.region, { trafficRouter: regionFleet, metricProvider: regionFleet, deployer: regionDeployer }];
            }),
          );
          targets.addRegionTarget({ name: SIMULATOR_REGIONS_TARGET, regions: parts });
        }
      },
    });
  },
});
