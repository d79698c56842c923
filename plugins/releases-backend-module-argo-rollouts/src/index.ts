/**
 * Release Pilot for teams on Argo Rollouts: an entity's Rollout on the Releases tab, and the actions
 * of `kubectl argo rollouts` with Backstage permissions and audit.
 *
 * @packageDocumentation
 */
export { releasesModuleArgoRollouts as default } from './module';
export { ArgoRollouts, selectorString } from './ArgoRollouts';
export type { RolloutRef } from './ArgoRollouts';
export { rolloutView } from './rolloutView';
export { createArgoRolloutsRouter } from './router';
export { readArgoRolloutsOptions, argoRolloutsOptionsSchema } from './config';
export type { ArgoRolloutsOptions } from './config';
export { KubeApi, KubeApiError } from './KubeApi';
