import { createBackendModule } from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readHaproxyOptions } from './config';
import { HaproxyTrafficRouter } from './HaproxyTrafficRouter';

/** Adds the `haproxy` traffic router type for `releases.targets.<name>.router`. */
export const releasesModuleHaproxy = createBackendModule({
  pluginId: 'releases',
  moduleId: 'haproxy',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addTrafficRouterType('haproxy', ({ targetName, config }) =>
          new HaproxyTrafficRouter(readHaproxyOptions(config, `releases.targets.${targetName}.router`)),
        );
      },
    });
  },
});
