import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { ArgoRollouts } from './ArgoRollouts';
import { readArgoRolloutsOptions } from './config';
import { KubeApi } from './KubeApi';
import { createArgoRolloutsRouter } from './router';

/** Adds `/api/releases/argo-rollouts`: an entity's Argo Rollout on the Releases tab, and promote, abort, retry and undo. */
export const releasesModuleArgoRollouts = createBackendModule({
  pluginId: 'releases',
  moduleId: 'argo-rollouts',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
      },
      async init({ config, logger, httpRouter, httpAuth, permissions, auditor, catalog }) {
        const options = readArgoRolloutsOptions(config);
        const rollouts = options && new ArgoRollouts(new KubeApi(options));
        if (!options) logger.info('Argo Rollouts: not configured (releases.argoRollouts); entities with release-pilot.io/argo-rollout are shown a note');
        httpRouter.use(createArgoRolloutsRouter({ options, rollouts, catalog, httpAuth, permissions, auditor }));
      },
    });
  },
});
