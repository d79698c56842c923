import {
  AuditorService,
  AuditorServiceEventSeverityLevel,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { JsonObject } from '@backstage/types';
import {
  createReleaseRequestSchema,
  listReleasesQuerySchema,
  Release,
  RELEASE_ACTION_PERMISSIONS,
  RELEASE_ACTIONS,
  ReleaseAction,
  releaseActionRequestSchema,
  releaseCreatePermission,
  ReleaseDetails,
  ReleaseList,
  releasePlanOverridePermission,
  ReleasePreview,
  releaseRiskOverridePermission,
  releasesReadPermission,
} from '@release-pilot/plugin-releases-common';
import type { Request } from 'express';
import { Access, actorOf, parse, releaseId } from './access';
import { ReleasesService } from './ReleasesService';

/** Who asks for an operation: an HTTP request, or an action invoked through Backstage's actions registry (MCP). */
export interface Caller {
  /** The caller's credentials; over HTTP read from the request's token (a 401 without one). */
  credentials(): Promise<BackstageCredentials>;
  /** The HTTP request, which the audit log reads; absent for an action. */
  request?: Request;
}

/**
 * The release operations the HTTP API and the actions registry share: one parse of the input, one
 * permission check and one audit event per operation, whichever way it came in.
 */
export class ReleaseOperations {
  constructor(
    private readonly deps: { service: ReleasesService; access: Access; auditor: AuditorService },
  ) {}

  async list(caller: Caller, rawQuery: unknown): Promise<ReleaseList> {
    const query = parse(listReleasesQuerySchema, rawQuery, 'query');
    await this.read(caller);
    return this.deps.service.listReleases(query);
  }

  async get(caller: Caller, rawId: string): Promise<ReleaseDetails> {
    const id = releaseId(rawId);
    await this.read(caller);
    return this.deps.service.getRelease(id);
  }

  /** The risk and the plan a release request would get, without starting it. */
  async assess(caller: Caller, rawBody: unknown): Promise<ReleasePreview> {
    const body = parse(createReleaseRequestSchema, rawBody, 'request body');
    const credentials = await caller.credentials();
    const { access } = this.deps;
    return this.deps.service.assessRelease(body, actorOf(credentials), credentials, entityRef =>
      access.authorize(credentials, releaseCreatePermission, entityRef),
    );
  }

  async create(caller: Caller, rawBody: unknown): Promise<Release> {
    return this.audited(caller, 'release-create', 'medium', async credentials => {
      const body = parse(createReleaseRequestSchema, rawBody, 'request body');
      const { access } = this.deps;
      const release = await this.deps.service.createRelease(
        body,
        actorOf(credentials),
        credentials,
        entityRef => access.authorize(credentials, releaseCreatePermission, entityRef),
        entityRef => access.authorize(credentials, releaseRiskOverridePermission, entityRef),
        entityRef => access.authorize(credentials, releasePlanOverridePermission, entityRef),
      );
      return {
        result: release,
        meta: {
          releaseId: release.id,
          entityRef: release.entityRef,
          version: release.version,
          risk: release.risk?.probability,
          riskOverride: release.risk?.override?.reason,
          planOverride: release.risk?.planOverride?.lessCareful,
        },
      };
    });
  }

  /** Pause, resume, promote or roll back a release. */
  async act(caller: Caller, rawId: string, rawAction: string, rawBody: unknown): Promise<Release> {
    const action = rawAction as ReleaseAction;
    if (!RELEASE_ACTIONS.includes(action)) {
      throw new InputError(`Unknown action '${rawAction}'; use one of ${RELEASE_ACTIONS.join(', ')}`);
    }
    return this.audited(caller, `release-${action}`, action === 'rollback' ? 'high' : 'medium', async credentials => {
      const id = releaseId(rawId);
      const body = parse(releaseActionRequestSchema, rawBody, 'request body');
      const release = await this.deps.service.act(id, action, actorOf(credentials), body.reason, entityRef =>
        this.deps.access.authorize(credentials, RELEASE_ACTION_PERMISSIONS[action], entityRef),
      );
      return {
        result: release,
        meta: { releaseId: id, entityRef: release.entityRef, action, reason: body.reason, outcome: release.state },
      };
    });
  }

  private async read(caller: Caller): Promise<void> {
    await this.deps.access.authorize(await caller.credentials(), releasesReadPermission);
  }

  /**
   * Runs a change inside its audit event: a success with what changed, or a failure with why (bad
   * input, no permission, a conflict). An action has no request for the auditor to read the caller
   * from, so its event names the caller itself.
   */
  private async audited<T>(
    caller: Caller,
    eventId: string,
    severityLevel: AuditorServiceEventSeverityLevel,
    run: (credentials: BackstageCredentials) => Promise<{ result: T; meta: JsonObject }>,
  ): Promise<T> {
    const event = await this.deps.auditor.createEvent({
      eventId,
      severityLevel,
      ...(caller.request ? { request: caller.request } : { meta: { via: 'actions-registry' } }),
    });
    let actor: string | undefined;
    const who = (): JsonObject => (caller.request || !actor ? {} : { actor });
    try {
      const credentials = await caller.credentials();
      actor = actorOf(credentials);
      const { result, meta } = await run(credentials);
      await event.success({ meta: { ...who(), ...meta } });
      return result;
    } catch (error) {
      await event.fail({ error: error as Error, meta: who() });
      throw error;
    }
  }
}
