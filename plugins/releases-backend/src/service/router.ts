import { AuditorService, HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  deployedRequestSchema,
  releaseCreatePermission,
  releaseRiskManagePermission,
  importRiskHistorySchema,
  releasesReadPermission,
  teamOverviewQuerySchema,
} from '@release-pilot/plugin-releases-common';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { unlessDatabaseUnavailable } from '../database/unavailable';
import { Access, actorOf, parse, releaseId } from './access';
import { Caller, ReleaseOperations } from './ReleaseOperations';
import { ReleasesService } from './ReleasesService';

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

/** The `/api/releases` HTTP API; every body and query is validated here, at the edge. */
export async function createRouter(options: {
  service: ReleasesService;
  /** The operations the actions registry shares with these routes. */
  operations: ReleaseOperations;
  access: Access;
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  /** This backend replica's id (the owner of the leases it takes). */
  replica?: string;
}): Promise<express.Router> {
  const { service, operations, access, httpAuth, auditor } = options;
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

  const callerOf = (req: express.Request): Caller => ({
    request: req,
    credentials: () => httpAuth.credentials(req, { allow: ['user', 'service'] }),
  });
  const credentialsOf = (req: express.Request) => callerOf(req).credentials();
  const authorize = access.authorize.bind(access);

  const readerOf = async (req: express.Request) => {
    await authorize(await credentialsOf(req), releasesReadPermission);
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
    res.json(await operations.list(callerOf(req), req.query));
  });

  router.get('/releases/:id', async (req, res) => {
    res.json(await operations.get(callerOf(req), req.params.id));
  });

  router.post('/releases', async (req, res) => {
    res.status(201).json(await operations.create(callerOf(req), req.body));
  });

  router.post('/releases/:id/deployed', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'release-deployed', severityLevel: 'medium', request: req });
    try {
      const id = releaseId(req.params.id);
      const body = parse(deployedRequestSchema, req.body ?? {}, 'request body');
      const credentials = await credentialsOf(req);
      const release = await service.confirmDeployed(id, body, actorOf(credentials), entityRef =>
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
    res.json(await operations.act(callerOf(req), req.params.id, req.params.action, req.body));
  });

  router.get('/annotations/problems', async (req, res) => {
    const { entityRef } = parse(annotationProblemsQuerySchema, req.query, 'query');
    const credentials = await credentialsOf(req);
    await authorize(credentials, releasesReadPermission);
    res.json(await service.annotationProblems(entityRef, credentials));
  });

  router.get('/targets', async (req, res) => {
    await readerOf(req);
    res.json(service.listTargets());
  });

  router.get('/teams/overview', async (req, res) => {
    const query = parse(teamOverviewQuerySchema, req.query, 'query');
    const credentials = await credentialsOf(req);
    await authorize(credentials, releasesReadPermission);
    res.json(await service.teamOverview(query, credentials));
  });

  router.post('/risk/assess', async (req, res) => {
    res.json(await operations.assess(callerOf(req), req.body));
  });

  router.get('/risk/model', async (req, res) => {
    await readerOf(req);
    res.json(service.riskModelInfo());
  });

  router.post('/risk/history', async (req, res) => {
    const auditorEvent = await auditor.createEvent({ eventId: 'risk-history-import', severityLevel: 'high', request: req });
    try {
      const body = parse(importRiskHistorySchema, req.body, 'request body');
      const credentials = await credentialsOf(req);
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
      const credentials = await credentialsOf(req);
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

  // The database gone: a 503 that says so, never a 500.
  router.use(((error, _req, _res, next) => {
    next(unlessDatabaseUnavailable(error));
  }) as express.ErrorRequestHandler);

  return router;
}
