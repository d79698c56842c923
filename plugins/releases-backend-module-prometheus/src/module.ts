import { createBackendModule } from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readPrometheusOptions } from './config';
import { PrometheusMetricProvider } from './PrometheusMetricProvider';

/** Adds the `prometheus` metric provider type for `releases.targets.<name>.metrics`. */
export const releasesModulePrometheus = createBackendModule({
  pluginId: 'releases',
  moduleId: 'prometheus',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint },
      async init({ targets }) {
        targets.addMetricProviderType('prometheus', ({ targetName, config, logger }) =>
          PrometheusMetricProvider.create(readPrometheusOptions(config, `releases.targets.${targetName}.metrics`), logger),
        );
      },
    });
  },
});
