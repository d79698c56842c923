import {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  createReleaseRequestSchema,
  deployedRequestSchema,
  RELEASE_ACTION_PERMISSIONS,
  releaseCreatePermission,
  releaseRiskOverridePermission,
  releaseRiskManagePermission,
  releasePlanOverridePermission,
  importRiskHistorySchema,
  releasesReadPermission,
  listReleasesQuerySchema,
  RELEASE_ACTIONS,
  ReleaseAction,
  releaseActionRequestSchema,
  teamOverviewQuerySchema,
} from '@release-pilot/plugin-releases-common';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../database/unavailable';
import { ReleasesService } from './ReleasesService';

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    throw new InputError(`Invalid ${what}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  }
  return result.data;
}

const annotationProblemsQuerySchema = z.strictObject({
  entityRef: z
    .string()
    .max(300)
    .transform((ref, ctx) => {
      try {
        return stringifyEntityRef(parseEntityRef(ref, { defaultKind: 'component', defaultNamespace: 'default' }));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not an entity ref: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
});

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function releaseId(raw: string): string {
  if (!UUID.test(raw)) throw new InputError(`Invalid release id '${raw}': expected a UUID`);
  return raw;
}

/** The `/api/releases` HTTP API; every body and query is validated here, at the edge. */
export async function createRouter(options: {
  service: ReleasesService;
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  permissions: PermissionsService;
  /** This backend replica's id (the owner of the leases it takes). */
  replica?: string;
}): Promise<express.Router> {
  const { service, httpAuth, auditor, permissions } = options;
  const router = Router();
  router.use(express.json({ limit: '100kb' }));
  // Malformed JSON is the caller's mistake: a 400 that says so, not a 500.
  router.use(((error, _req, _res, next) => {
    if (error?.type === 'entity.parse.failed' || error instanceof SyntaxError) {
      next(new InputError(`Request body is not valid JSON: ${error.message}`));
    } else if (error?.type === 'entity.too.large') {
      next(new InputError('Request body is too large (100 kB at most)'));
    } else {
      next(error);
    }
  }) as express.ErrorRequestHandler);

  const actorOf = async (req: express.Request) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
    const actor = principal.userEntityRef ?? principal.subject ?? 'unknown';
    return { credentials, actor };
  };

  /** Throws NotAllowedError (403) unless the permission policy allows it. */
  const authorize = async (
    credentials: BackstageCredentials,
    permission: BasicPermission | ResourcePermission<'catalog-entity'>,
    resourceRef?: string,
  ) => {
    const [decision] = await permissions.authorize(
      [resourceRef ? { permission: permission as ResourcePermission, resourceRef } : { permission: permission as BasicPermission }],
      { credentials },
    );
    const ungranted = ungrantedToService(credentials, permission.name);
    if (decision.result !== AuthorizeResult.ALLOW || ungranted) {
      throw new NotAllowedError(
        `Not allowed: ${permission.name}${resourceRef ? ` on ${resourceRef}` : ''}${ungranted ? `: ${ungranted}` : ''}`,
      );
    }
  };

  const readerOf = async (req: express.Request) => {
    const { credentials } = await actorOf(req);
    await authorize(credentials, releasesReadPermission);
  };

  // Which replica answered: behind a load balancer, the one to look at (its id is the lease owner).
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', ...(options.replica && { replica: options.replica }) });
  });

  router.get('/plans', async (req, res) => {
    await readerOf(req);
    res.json(service.listPlans());
  });

  router.get('/releases', async (req, res) => {
    const query = parse(listReleasesQuerySchema, req.query, 'query');
    await readerOf(req);
    res.json(await service.listReleases(query));
  });

  router.get('/releases/:id', async (req, res) => {
    const id = releaseId(req.params.id);
    await readerOf(req);
    res.json(await service.getRelease(id));
  });

  router.post('/releases', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'release-create', severityLevel: 'medium', request: req });
    try {
      const body = parse(createReleaseRequestSchema, req.body, 'request body');
      const { credentials, actor } = await actorOf(req);
      const release = await service.createRelease(
        body,
        actor,
        credentials,
        entityRef => authorize(credentials, releaseCreatePermission, entityRef),
        entityRef => authorize(credentials, releaseRiskOverridePermission, entityRef),
        entityRef => authorize(credentials, releasePlanOverridePermission, entityRef),
      );
      await auditorEvent.success({
        meta: {
          releaseId: release.id,
          entityRef: release.entityRef,
          version: release.version,
          risk: release.risk?.probability,
          riskOverride: release.risk?.override?.reason,
          planOverride: release.risk?.planOverride?.lessCareful,
        },
      });
      res.status(201).json(release);
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
      throw error;
    }
  });

  router.post('/releases/:id/deployed', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'release-deployed', severityLevel: 'medium', request: req });
    try {
      const id = releaseId(req.params.id);
      const body = parse(deployedRequestSchema, req.body ?? {}, 'request body');
      const { credentials, actor } = await actorOf(req);
      const release = await service.confirmDeployed(id, body, actor, entityRef =>
        authorize(credentials, releaseCreatePermission, entityRef),
      );
      await auditorEvent.success({ meta: { releaseId: id, entityRef: release.entityRef, side: body.side, version: body.version, outcome: release.state } });
      res.json(release);
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
      throw error;
    }
  });

  router.post('/releases/:id/:action', async (req, res) => {
    const action = req.params.action as ReleaseAction;
    if (!RELEASE_ACTIONS.includes(action)) {
      throw new InputError(`Unknown action '${req.params.action}'; use one of ${RELEASE_ACTIONS.join(', ')}`);
    }
    const auditorEvent = await auditor.createEvent({
      eventId: `release-${action}`,
      severityLevel: action === 'rollback' ? 'high' : 'medium',
      request: req,
    });
    try {
      const id = releaseId(req.params.id);
      const body = parse(releaseActionRequestSchema, req.body, 'request body');
      const { credentials, actor } = await actorOf(req);
      const release = await service.act(id, action, actor, body.reason, entityRef =>
        authorize(credentials, RELEASE_ACTION_PERMISSIONS[action], entityRef),
      );
      await auditorEvent.success({
        meta: { releaseId: id, entityRef: release.entityRef, action, reason: body.reason, outcome: release.state },
      });
      res.json(release);
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
      throw error;
    }
  });

  router.get('/annotations/problems', async (req, res) => {
    const { entityRef } = parse(annotationProblemsQuerySchema, req.query, 'query');
    const { credentials } = await actorOf(req);
    await authorize(credentials, releasesReadPermission);
    res.json(await service.annotationProblems(entityRef, credentials));
  });

  router.get('/targets', async (req, res) => {
    await readerOf(req);
    res.json(service.listTargets());
  });

  router.get('/teams/overview', async (req, res) => {
    const query = parse(teamOverviewQuerySchema, req.query, 'query');
    const { credentials } = await actorOf(req);
    await authorize(credentials, releasesReadPermission);
    res.json(await service.teamOverview(query, credentials));
  });

  router.post('/risk/assess', async (req, res) => {
    const body = parse(createReleaseRequestSchema, req.body, 'request body');
    const { credentials, actor } = await actorOf(req);
    res.json(await service.assessRelease(body, actor, credentials, entityRef => authorize(credentials, releaseCreatePermission, entityRef)));
  });

  router.get('/risk/model', async (req, res) => {
    await readerOf(req);
    res.json(service.riskModelInfo());
  });

  router.post('/risk/history', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'risk-history-import', severityLevel: 'high', request: req });
    try {
      const body = parse(importRiskHistorySchema, req.body, 'request body');
      const { credentials } = await actorOf(req);
      await authorize(credentials, releaseRiskManagePermission);
      const imported = await service.importRiskHistory(body);
      await auditorEvent.success({ meta: { imported } });
      res.status(201).json({ imported });
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
      throw error;
    }
  });

  router.post('/risk/train', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'risk-train', severityLevel: 'high', request: req });
    try {
      const { credentials } = await actorOf(req);
      await authorize(credentials, releaseRiskManagePermission);
      await service.retrainRisk();
      const info = service.riskModelInfo();
      await auditorEvent.success({ meta: { model: info.model, rows: info.rows } });
      res.json(info);
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
      throw error;
    }
  });

  // The database gone (a restart, a failover): a 503 that says so, never a 500. A change is saved in
  // one transaction, so it is either all there or not at all.
  router.use(((error, _req, _res, next) => {
    next(
      isDatabaseUnavailable(error)
        ? new ServiceUnavailableError('The releases database cannot be reached right now; try again in a few seconds (a change is saved in one transaction: all of it or none)', error)
        : error,
    );
  }) as express.ErrorRequestHandler);

  return router;
}
