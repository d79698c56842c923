import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { catalogConditions, createCatalogConditionalDecision } from '@backstage/plugin-catalog-backend/alpha';
import { AuthorizeResult, isResourcePermission, PolicyDecision } from '@backstage/plugin-permission-common';
import { PermissionPolicy, PolicyQuery, PolicyQueryUser } from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { releasesReadPermission } from '@release-pilot/plugin-releases-common';

/**
 * The example app's policy for Release Pilot: everybody may see releases; starting, pausing,
 * promoting, rolling back and overriding the risk gate are for the entity's owners (the catalog's
 * `isEntityOwner`, evaluated by the catalog against the user's ownership claims) and for the admin
 * groups in `permission.admins`; managing the risk model is for admins only. Pipelines calling with
 * a static token (no user) are allowed; restrict them with `backend.auth.externalAccess`'s
 * `accessRestrictions`. Every other permission is allowed, as with the allow-all policy.
 */
export class ReleasePilotPolicy implements PermissionPolicy {
  constructor(private readonly admins: readonly string[]) {}

  async handle(request: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    const { permission } = request;
    if (!permission.name.startsWith('releases.') || permission.name === releasesReadPermission.name) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) return { result: AuthorizeResult.ALLOW };
    const claims = user.info.ownershipEntityRefs ?? [];
    if (claims.some(ref => this.admins.includes(ref))) return { result: AuthorizeResult.ALLOW };
    if (isResourcePermission(permission, 'catalog-entity')) {
      return createCatalogConditionalDecision(permission, catalogConditions.isEntityOwner({ claims }));
    }
    return { result: AuthorizeResult.DENY };
  }
}

/** Installs `ReleasePilotPolicy`, with its admin groups from `permission.admins`. */
export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'release-pilot-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(new ReleasePilotPolicy(config.getOptionalStringArray('permission.admins') ?? []));
      },
    });
  },
});
