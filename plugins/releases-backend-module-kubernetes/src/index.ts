/**
 * Release Pilot's Kubernetes traffic routers: Gateway API HTTPRoute and Istio VirtualService.
 *
 * @packageDocumentation
 */
export { releasesModuleKubernetes as default } from './module';
export { KubernetesTrafficRouter, KUBERNETES_ANNOTATIONS } from './KubernetesTrafficRouter';
export type { JsonPatchOp } from './KubernetesTrafficRouter';
export { readKubernetesRouterOptions, kubernetesRouterSchema, clusterSchema } from './config';
export type { KubernetesRouterOptions, ClusterOptions } from './config';
