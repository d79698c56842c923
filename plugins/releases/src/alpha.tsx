import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { releasesApiRef, ReleasesClient } from './api';

const releasesApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: releasesApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new ReleasesClient(deps),
    }),
});

/** The Releases tab on Component pages; it explains the annotation when it is missing. */
const releasesEntityContent = EntityContentBlueprint.make({
  params: {
    path: 'releases',
    title: 'Releases',
    filter: 'kind:component',
    loader: () =>
      import('./components/EntityReleasesContent').then(m => <m.EntityReleasesContent />),
  },
});

/** Release Pilot's frontend plugin for the new frontend system. */
export default createFrontendPlugin({
  pluginId: 'releases',
  extensions: [releasesApi, releasesEntityContent],
});
