import { createBackendModule } from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readDatadogOptions } from './config';
import { DatadogMetricProvider } from './DatadogMetricProvider';

/** Adds the `datadog` metric provider type for `releases.targets.<name>.metrics`. */
export const releasesModuleDatadog = createBackendModule({
  pluginId: 'releases',
  moduleId: 'datadog',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addMetricProviderType('datadog', ({ targetName, config }) =>
          DatadogMetricProvider.create(readDatadogOptions(config, `releases.targets.${targetName}.metrics`)),
        );
      },
    });
  },
});
