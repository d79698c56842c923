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
