import {
  ApiBlueprint,
  createFrontendPlugin,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { PageBlueprint } from '@backstage/frontend-plugin-api';
import RocketIcon from '@material-ui/icons/FlightTakeoff';
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

/** The Releases tab on Group pages: the team's releases, DORA figures and charts. */
const teamReleasesEntityContent = EntityContentBlueprint.make({
  name: 'team',
  params: {
    path: 'releases',
    title: 'Releases',
    filter: 'kind:group',
    loader: () => import('./components/TeamReleasesContent').then(m => <m.TeamReleasesContent />),
  },
});

const releasesPageRouteRef = createRouteRef();

/** The organisation's releases in progress, in the sidebar. */
const releasesPage = PageBlueprint.make({
  params: {
    path: '/releases',
    routeRef: releasesPageRouteRef,
    title: 'Releases',
    icon: <RocketIcon />,
    loader: () => import('./components/ReleasesPage').then(m => <m.ReleasesPage />),
  },
});

/** Release Pilot's frontend plugin for the new frontend system. */
export default createFrontendPlugin({
  pluginId: 'releases',
  title: 'Releases',
  icon: <RocketIcon />,
  routes: { releasesPage: releasesPageRouteRef },
  extensions: [releasesApi, releasesEntityContent, teamReleasesEntityContent, releasesPage],
});
