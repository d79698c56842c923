import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readSimulatorConfig } from './config';
import { SimulatedFleet } from './SimulatedFleet';

/** Registers the simulated fleet as the `simulator` target. */
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
        const fleet = new SimulatedFleet(readSimulatorConfig(config));
        targets.addTarget({ name: 'simulator', trafficRouter: fleet, metricProvider: fleet });
      },
    });
  },
});
