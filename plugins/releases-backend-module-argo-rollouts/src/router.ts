import { AuditorService, BackstageCredentials, HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError, ServiceUnavailableError, ConflictError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult, ResourcePermission } from '@backstage/plugin-permission-common';
import {
  ARGO_ROLLOUT_ACTION_PERMISSIONS,
  ARGO_ROLLOUT_ACTIONS,
  ArgoRolloutAction,
  RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION,
  RELEASE_PILOT_ARGO_ROLLOUT_NAMESPACE_ANNOTATION,
  releasesReadPermission,
} from '@release-pilot/plugin-releases-common';
import { allowedValue, checkedValue, entityPlaceholders, fillPlaceholders, patternRule } from '@release-pilot/plugin-releases-node';
import express from 'express';
import Router from 'express-promise-router';
import { ArgoRollouts, RolloutRef } from './ArgoRollouts';
import { ArgoRolloutsOptions } from './config';
import { KubeApiError } from './KubeApi';
import { rolloutView } from './rolloutView';

/** The annotations that opt an entity in: its Rollout's name, and optionally its namespace. */
const ARGO_ROLLOUT_ANNOTATION = RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION;
const ARGO_ROLLOUT_NAMESPACE_ANNOTATION = RELEASE_PILOT_ARGO_ROLLOUT_NAMESPACE_ANNOTATION;

const NAME = patternRule(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a Kubernetes object name: lower-case letters, digits, - and ., 1 to 253 characters');

function entityRefOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 300) throw new InputError('entityRef is required: an entity ref like component:default/checkout');
  try {
    return stringifyEntityRef(parseEntityRef(raw, { defaultKind: 'component', defaultNamespace: 'default' }));
  } catch (error) {
    throw new InputError(`Invalid entityRef '${raw}': ${(error as Error).message}`);
  }
}

/**
 * `/api/releases/argo-rollouts`: an entity's Rollout in Release Pilot's words, and the actions of
 * `kubectl argo rollouts` on it, with the releases permissions on the entity and an audit event each.
 */
export function createArgoRolloutsRouter(deps: {
  options?: ArgoRolloutsOptions;
  rollouts?: ArgoRollouts;
  catalog: CatalogService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
}): express.Router {
  const { options, rollouts, catalog, httpAuth, permissions, auditor } = deps;
  const router = Router();
  router.use('/argo-rollouts', express.json({ limit: '10kb' }));

  const authorize = async (credentials: BackstageCredentials, permission: ResourcePermission<'catalog-entity'> | typeof releasesReadPermission, entityRef?: string) => {
    const [decision] = await permissions.authorize([entityRef ? { permission: permission as ResourcePermission, resourceRef: entityRef } : { permission: permission as any }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) throw new NotAllowedError(`Not allowed: ${permission.name}${entityRef ? ` on ${entityRef}` : ''}`);
  };

  /** The entity's Rollout, from its annotations, each value checked against the config's allow lists. */
  const rolloutOf = async (entityRef: string, credentials: BackstageCredentials): Promise<RolloutRef> => {
    if (!options || !rollouts) throw new ServiceUnavailableError('Argo Rollouts is not configured here: add releases.argoRollouts (cluster, namespace) to app-config');
    const entity = await catalog.getEntityByRef(entityRef, { credentials });
    if (!entity) throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    const annotations = entity.metadata.annotations ?? {};
    const template = annotations[ARGO_ROLLOUT_ANNOTATION];
    if (!template) throw new NotFoundError(`${entityRef} has no ${ARGO_ROLLOUT_ANNOTATION} annotation naming its Rollout`);
    const name = checkedValue(fillPlaceholders(template, entityPlaceholders(entityRef)), NAME, `${ARGO_ROLLOUT_ANNOTATION}`);
    if (!allowedValue(name, options.allowNames, entityRef)) {
      throw new NotAllowedError(`${ARGO_ROLLOUT_ANNOTATION}: '${name}' is not a Rollout ${entityRef} may name (releases.argoRollouts.allowNames: ${options.allowNames.join(', ')})`);
    }
    const namespace = annotations[ARGO_ROLLOUT_NAMESPACE_ANNOTATION] ?? options.namespace;
    if (namespace !== options.namespace && !options.allowNamespaces.includes(namespace)) {
      throw new NotAllowedError(`${ARGO_ROLLOUT_NAMESPACE_ANNOTATION}: '${namespace}' is not an allowed namespace (releases.argoRollouts.namespace and allowNamespaces)`);
    }
    return { namespace, name };
  };

  const viewOf = async (ref: RolloutRef) => {
    const rollout = await rollouts!.getRollout(ref);
    const [replicaSets, runs] = await Promise.all([rollouts!.replicaSets(rollout), rollouts!.analysisRuns(rollout)]);
    return rolloutView(rollout, replicaSets, runs);
  };

  /** A Kubernetes answer as the caller's error: the Rollout missing is a 404, a refusal of ours a 503 naming it. */
  const kubeError = (error: unknown) => {
    if (!(error instanceof KubeApiError)) return error;
    if (error.status === 404) return new NotFoundError(error.message);
    return new ServiceUnavailableError(error.message);
  };

  router.get('/argo-rollouts', async (req, res) => {
    const entityRef = entityRefOf(req.query.entityRef);
    const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
    await authorize(credentials, releasesReadPermission);
    const ref = await rolloutOf(entityRef, credentials);
    try {
      res.json({ rollout: await viewOf(ref) });
    } catch (error) {
      throw kubeError(error);
    }
  });

  router.post('/argo-rollouts/:action', async (req, res) => {
    const action = req.params.action as ArgoRolloutAction;
    if (!ARGO_ROLLOUT_ACTIONS.includes(action)) throw new InputError(`Unknown action '${req.params.action}'; use one of ${ARGO_ROLLOUT_ACTIONS.join(', ')}`);
    const event = await auditor.createEvent({ eventId: `argo-rollout-${action}`, severityLevel: action === 'abort' || action === 'undo' ? 'high' : 'medium', request: req });
    try {
      const body = req.body ?? {};
      const extra = Object.keys(body).filter(k => k !== 'entityRef' && k !== 'reason');
      if (extra.length) throw new InputError(`Invalid request body: unknown key(s) ${extra.join(', ')}; send { entityRef, reason? }`);
      if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 1000)) throw new InputError('Invalid request body: reason is a string of at most 1000 characters');
      const entityRef = entityRefOf(body.entityRef);
      const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
      await authorize(credentials, ARGO_ROLLOUT_ACTION_PERMISSIONS[action], entityRef);
      const ref = await rolloutOf(entityRef, credentials);
      let message: string;
      let view;
      try {
        const before = await viewOf(ref);
        if (!before.actions[action].possible) throw new ConflictError(`Cannot ${action} ${ref.namespace}/${ref.name}: ${before.actions[action].why}`);
        message = await rollouts!.act(ref, action);
        view = await viewOf(ref);
      } catch (error) {
        throw kubeError(error);
      }
      await event.success({ meta: { entityRef, rollout: `${ref.namespace}/${ref.name}`, action, reason: body.reason, result: message } });
      res.json({ message, rollout: view });
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  return router;
}
