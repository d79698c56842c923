import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readInstancesResilienceOptions } from './config';
import { InstancesResilience } from './InstancesResilience';

/** Adds the `instances` resilience gate type for `releases.targets.<name>.resilience`. */
export const releasesModuleChaos = createBackendModule({
  pluginId: 'releases',
  moduleId: 'chaos',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint, lifecycle: coreServices.lifecycle },
      async init({ targets, lifecycle }) {
        const built: InstancesResilience[] = [];
        targets.addResilienceType('instances', ({ targetName, config }) => {
          const parts = new InstancesResilience(readInstancesResilienceOptions(config, `releases.targets.${targetName}.resilience`));
          built.push(parts);
          return parts;
        });
        // Faults stay until their TTL (another replica may take the gate over); only the load stops with the backend.
        lifecycle.addShutdownHook(() => Promise.all(built.map(parts => parts.load.stopAll())).then(() => undefined));
      },
    });
  },
});
