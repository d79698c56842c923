import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readSimulatorConfig } from './config';
import { SimulatedFleet } from './SimulatedFleet';
import { SimulatedDeployer } from './SimulatedDeployer';

/** Registers the simulated fleet, with its simulated deployer, as the `simulator` target. */
export const releasesModuleSimulator = createBackendModule({
  pluginId: 'releases',
  moduleId: 'simulator',
  register(reg) {
    reg.registerInit({
      deps: {
        targets: releasesTargetsExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ targets, config }) {
        const options = readSimulatorConfig(config);
        const deployer = new SimulatedDeployer(options.deployer);
        const fleet = new SimulatedFleet(options, deployer);
        targets.addTarget({ name: 'simulator', trafficRouter: fleet, metricProvider: fleet, deployer });
      },
    });
  },
});
