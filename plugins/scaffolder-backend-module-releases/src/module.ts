import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createEnableReleasesAction, releasesCatalogFromBackend } from './actions/enableReleases';

/** Adds `releases:enable` to the scaffolder. */
export const scaffolderModuleReleases = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'releases',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
      },
      async init({ scaffolder, discovery, auth }) {
        scaffolder.addActions(createEnableReleasesAction({ catalog: releasesCatalogFromBackend({ discovery, auth }) }));
      },
    });
  },
});
