import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { releasesApiRef, ReleasesClient } from './api';

/** Release Pilot's frontend plugin (legacy frontend system). */
export const releasesPlugin = createPlugin({
  id: 'releases',
  apis: [
    createApiFactory({
      api: releasesApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new ReleasesClient(deps),
    }),
  ],
});

/** The Releases tab content for entity pages. */
export const EntityReleasesContent = releasesPlugin.provide(
  createComponentExtension({
    name: 'EntityReleasesContent',
    component: {
      lazy: () =>
        import('./components/EntityReleasesContent').then(m => m.EntityReleasesContent),
    },
  }),
);

/** The Releases tab content for Group pages: the team's releases, DORA figures and charts. */
export const EntityTeamReleasesContent = releasesPlugin.provide(
  createComponentExtension({
    name: 'EntityTeamReleasesContent',
    component: {
      lazy: () => import('./components/TeamReleasesContent').then(m => m.TeamReleasesContent),
    },
  }),
);

/** The organisation's releases in progress, for a route such as `/releases` in the app. */
export const ReleasesPage = releasesPlugin.provide(
  createComponentExtension({
    name: 'ReleasesPage',
    component: {
      lazy: () => import('./components/ReleasesPage').then(m => m.ReleasesPage),
    },
  }),
);
