import { createPermission } from '@backstage/plugin-permission-common';

/** See releases of any entity. */
export const releasesReadPermission = createPermission({
  name: 'releases.release.read',
  attributes: { action: 'read' },
});

/** Start a release of an entity; a catalog-entity permission, so policies can require ownership. */
export const releaseCreatePermission = createPermission({
  name: 'releases.release.create',
  attributes: { action: 'create' },
  resourceType: 'catalog-entity',
});

/** Pause, resume, promote or roll back a release of an entity. */
export const releaseActPermission = createPermission({
  name: 'releases.release.act',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Start a release whose predicted risk is above the limit, with a reason. */
export const releaseRiskOverridePermission = createPermission({
  name: 'releases.risk.override',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Import deployment history and retrain the risk model (platform administrators). */
export const releaseRiskManagePermission = createPermission({
  name: 'releases.risk.manage',
  attributes: { action: 'update' },
});

/** Every permission of the releases plugin. */
export const releasesPermissions = [
  releasesReadPermission,
  releaseCreatePermission,
  releaseActPermission,
  releaseRiskOverridePermission,
  releaseRiskManagePermission,
];
