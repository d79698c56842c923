import { AuthorizeResult, createPermission } from '@backstage/plugin-permission-common';
import {
  releaseCreatePermission,
  releaseRiskManagePermission,
  releaseRollbackPermission,
  releasesReadPermission,
} from '@release-pilot/plugin-releases-common';
import { ReleasePilotPolicy } from './permissionPolicy';

const user = (...ownershipEntityRefs: string[]) => ({
  identity: { type: 'user' as const, userEntityRef: ownershipEntityRefs[0], ownershipEntityRefs },
  info: { userEntityRef: ownershipEntityRefs[0], ownershipEntityRefs },
  token: 't',
  credentials: {} as any,
});

describe('ReleasePilotPolicy', () => {
  const policy = new ReleasePilotPolicy(['group:default/team-platform']);
  const bob = user('user:default/bob', 'group:default/team-discovery');

  it('lets everybody read releases, and leaves other plugins alone', async () => {
    expect(await policy.handle({ permission: releasesReadPermission }, bob)).toEqual({ result: AuthorizeResult.ALLOW });
    const other = createPermission({ name: 'catalog.entity.delete', attributes: { action: 'delete' } });
    expect(await policy.handle({ permission: other }, bob)).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it('lets only owners act on an entity: a conditional decision on the catalog\'s isEntityOwner with the user\'s claims', async () => {
    for (const permission of [releaseCreatePermission, releaseRollbackPermission]) {
      expect(await policy.handle({ permission }, bob)).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: ['user:default/bob', 'group:default/team-discovery'] },
        },
      });
    }
  });

  it('lets admins do everything, denies the risk model to the rest, and allows pipelines (no user)', async () => {
    const carol = user('user:default/carol', 'group:default/team-platform');
    expect(await policy.handle({ permission: releaseRollbackPermission }, carol)).toEqual({ result: AuthorizeResult.ALLOW });
    expect(await policy.handle({ permission: releaseRiskManagePermission }, carol)).toEqual({ result: AuthorizeResult.ALLOW });
    expect(await policy.handle({ permission: releaseRiskManagePermission }, bob)).toEqual({ result: AuthorizeResult.DENY });
    expect(await policy.handle({ permission: releaseCreatePermission })).toEqual({ result: AuthorizeResult.ALLOW });
  });
});
