import { BackstageCredentials, PermissionsService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { releasePlanOverridePermission, releaseRiskManagePermission } from '@release-pilot/plugin-releases-common';
import { z } from 'zod';

/** Parses input at the edge: the parsed value, or a 400 that says what to fix. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    throw new InputError(`Invalid ${what}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  }
  return result.data;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A release id from a path or an action's input: a UUID, or a 400. */
export function releaseId(raw: string): string {
  if (!UUID.test(raw)) throw new InputError(`Invalid release id '${raw}': expected a UUID`);
  return raw;
}

/**
 * Permissions a request without a user (a static or service token) holds only when its grant names
 * them: Backstage lets a token without `accessRestrictions` do everything, and these are not for
 * a pipeline that was merely given a token.
 */
const GRANTED_BY_NAME_ONLY: readonly string[] = [releaseRiskManagePermission.name, releasePlanOverridePermission.name];

/** Why a service principal may not use `permission`, or undefined when it may. */
function ungrantedToService(credentials: BackstageCredentials, permission: string): string | undefined {
  const principal = credentials.principal as { type: string; subject?: string; accessRestrictions?: { permissionNames?: string[] } };
  if (principal.type !== 'service' || !GRANTED_BY_NAME_ONLY.includes(permission)) return undefined;
  if (principal.accessRestrictions?.permissionNames?.includes(permission)) return undefined;
  return `a token without a user (${principal.subject ?? 'unknown'}) needs '${permission}' named in its accessRestrictions (backend.auth.externalAccess)`;
}

/** Who is calling, in the words the timeline and the audit log use (a user's entity ref, or the service's subject). */
export function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  return principal.userEntityRef ?? principal.subject ?? 'unknown';
}

/** The permission check every route and action goes through. */
export class Access {
  constructor(private readonly permissions: PermissionsService) {}

  /** Throws NotAllowedError (403) unless the permission policy allows it. */
  async authorize(
    credentials: BackstageCredentials,
    permission: BasicPermission | ResourcePermission<'catalog-entity'>,
    resourceRef?: string,
  ): Promise<void> {
    const [decision] = await this.permissions.authorize(
      [resourceRef ? { permission: permission as ResourcePermission, resourceRef } : { permission: permission as BasicPermission }],
      { credentials },
    );
    const ungranted = ungrantedToService(credentials, permission.name);
    if (decision.result !== AuthorizeResult.ALLOW || ungranted) {
      throw new NotAllowedError(
        `Not allowed: ${permission.name}${resourceRef ? ` on ${resourceRef}` : ''}${ungranted ? `: ${ungranted}` : ''}`,
      );
    }
  }
}
