import { usePermission } from '@backstage/plugin-permission-react';
import {
  releaseCreatePermission,
  releasePausePermission,
  releasePromotePermission,
  releaseRollbackPermission,
} from '@release-pilot/plugin-releases-common';

/** Whether the person may do each release action on an entity (as the permission policy decides). */
export interface ReleasePermissions {
  loading: boolean;
  start: boolean;
  pause: boolean;
  promote: boolean;
  rollback: boolean;
}

/** Asks the permission backend about each action on `entityRef`; the backend enforces the same decisions. */
export function useReleasePermissions(entityRef: string): ReleasePermissions {
  const start = usePermission({ permission: releaseCreatePermission, resourceRef: entityRef });
  const pause = usePermission({ permission: releasePausePermission, resourceRef: entityRef });
  const promote = usePermission({ permission: releasePromotePermission, resourceRef: entityRef });
  const rollback = usePermission({ permission: releaseRollbackPermission, resourceRef: entityRef });
  return {
    loading: start.loading || pause.loading || promote.loading || rollback.loading,
    start: start.allowed,
    pause: pause.allowed,
    promote: promote.allowed,
    rollback: rollback.allowed,
  };
}

/** Why the person may not act, in words, e.g. for a disabled button's tooltip. */
export function deniedReason(what: string, owners: string[]): string {
  const who = owners.length ? `its owners (${owners.join(', ')})` : 'its owners';
  return `Only ${who} and release admins may ${what}`;
}
