/*
 * Hi!
 *
 * Note that this is an EXAMPLE Backstage backend. Please check the README.
 *
 * Happy hacking!
 */

import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

// scaffolder plugin
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);
// releases:enable, which adds the Release Pilot annotations to a component's catalog-info.yaml
backend.add(import('@release-pilot/plugin-scaffolder-backend-module-releases'));


// auth plugin
backend.add(import('@backstage/plugin-auth-backend'));
// See https://backstage.io/docs/backend-system/building-backends/migrating#the-auth-plugin
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
// See https://backstage.io/docs/auth/guest/provider

// catalog plugin
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);

// See https://backstage.io/docs/features/software-catalog/configuration#subscribing-to-catalog-errors
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

// permission plugin
backend.add(import('@backstage/plugin-permission-backend'));
// Release Pilot's example policy: owners (and the admin groups in permission.admins) act on releases.
backend.add(import('./modules/permissionPolicy'));

// search plugin
backend.add(import('@backstage/plugin-search-backend'));

// search engine
// See https://backstage.io/docs/features/search/search-engines
backend.add(import('@backstage/plugin-search-backend-module-pg'));

// search collators
backend.add(import('@backstage/plugin-search-backend-module-catalog'));


// user settings plugin
backend.add(import('@backstage/plugin-user-settings-backend'));

// notifications and signals plugins
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));


// Release Pilot: the releases backend, its embedded default target (the simulated fleet), and the
// router and metric provider types that `releases.targets` in app-config builds real targets from.
backend.add(import('@release-pilot/plugin-releases-backend'));
backend.add(import('@release-pilot/plugin-releases-backend-module-simulator'));
backend.add(import('@release-pilot/plugin-releases-backend-module-haproxy'));
backend.add(import('@release-pilot/plugin-releases-backend-module-chaos'));
backend.add(import('@release-pilot/plugin-releases-backend-module-kubernetes'));
backend.add(import('@release-pilot/plugin-releases-backend-module-prometheus'));
backend.add(import('@release-pilot/plugin-releases-backend-module-datadog'));
// Teams on Argo Rollouts: an entity's Rollout on its Releases tab, promote/abort/retry/undo (releases.argoRollouts)
backend.add(import('@release-pilot/plugin-releases-backend-module-argo-rollouts'));

// MCP: the actions in backend.actions.pluginSources (Release Pilot's among them) as tools for AI
// agents, at /api/mcp-actions/v1, each called with the caller's own permissions.
backend.add(import('@backstage/plugin-mcp-actions-backend'));

backend.start();
