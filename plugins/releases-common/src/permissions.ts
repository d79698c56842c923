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

/** Pause or resume a release of an entity (resuming also approves a manual gate). */
export const releasePausePermission = createPermission({
  name: 'releases.release.pause',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Promote a release of an entity straight to 100 % (or end its watch early). */
export const releasePromotePermission = createPermission({
  name: 'releases.release.promote',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Roll back a release of an entity: the active one, or the last one that succeeded. */
export const releaseRollbackPermission = createPermission({
  name: 'releases.release.rollback',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Start a release whose predicted risk is above the limit, with a reason. */
export const releaseRiskOverridePermission = createPermission({
  name: 'releases.risk.override',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/**
 * Start a release with a plan of one's own choosing (inline steps, or a named plan) that is less
 * careful than the plan the risk would have chosen: bigger jumps, shorter steps or watch, fewer
 * canary requests or manual gates.
 */
export const releasePlanOverridePermission = createPermission({
  name: 'releases.plan.override',
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
  releasePausePermission,
  releasePromotePermission,
  releaseRollbackPermission,
  releaseRiskOverridePermission,
  releasePlanOverridePermission,
  releaseRiskManagePermission,
];

/** The permission each user action on a release needs. */
export const RELEASE_ACTION_PERMISSIONS = {
  pause: releasePausePermission,
  resume: releasePausePermission,
  promote: releasePromotePermission,
  rollback: releaseRollbackPermission,
} as const;

/**
 * The permission each action on an entity's Argo Rollout needs: promoting is promoting; aborting and
 * undoing take the new version away (a rollback); retrying an aborted Rollout starts its release again.
 */
export const ARGO_ROLLOUT_ACTION_PERMISSIONS = {
  promote: releasePromotePermission,
  'promote-full': releasePromotePermission,
  abort: releaseRollbackPermission,
  undo: releaseRollbackPermission,
  retry: releaseCreatePermission,
} as const;
