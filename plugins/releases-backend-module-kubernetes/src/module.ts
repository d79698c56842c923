import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { releasesTargetsExtensionPoint } from '@release-pilot/plugin-releases-node';
import { readKubernetesDeployerOptions, readKubernetesRouterOptions } from './config';
import { KubernetesChaos, readKubernetesChaosOptions } from './chaos/KubernetesChaos';
import { KubernetesDeployer } from './KubernetesDeployer';
import { KubernetesTrafficRouter } from './KubernetesTrafficRouter';

/**
 * Adds the `gateway-api` and `istio` traffic router types, the `kubernetes` deployer type (a stable and
 * a canary Deployment), and the `kubernetes` resilience gate type (Chaos Mesh or LitmusChaos resources).
 */
export const releasesModuleKubernetes = createBackendModule({
  pluginId: 'releases',
  moduleId: 'kubernetes',
  register(reg) {
    reg.registerInit({
      deps: { targets: releasesTargetsExtensionPoint, rootConfig: coreServices.rootConfig },
      async init({ targets, rootConfig }) {
        for (const type of ['gateway-api', 'istio']) {
          targets.addTrafficRouterType(type, ({ targetName, config }) =>
            new KubernetesTrafficRouter(readKubernetesRouterOptions(config, `releases.targets.${targetName}.router`, rootConfig)),
          );
        }
        targets.addResilienceType('kubernetes', ({ targetName, config }) =>
          new KubernetesChaos(readKubernetesChaosOptions(config, `releases.targets.${targetName}.resilience`, rootConfig)),
        );
        targets.addDeployerType('kubernetes', ({ targetName, config }) =>
          new KubernetesDeployer(readKubernetesDeployerOptions(config, `releases.targets.${targetName}.deployer`, rootConfig)),
        );
      },
    });
  },
});
