/**
 * Release Pilot's Kubernetes traffic routers (Gateway API HTTPRoute, Istio VirtualService) and deployer (a stable and a canary Deployment).
 *
 * @packageDocumentation
 */
export { releasesModuleKubernetes as default } from './module';
export { KubernetesTrafficRouter, KUBERNETES_ANNOTATIONS } from './KubernetesTrafficRouter';
export type { JsonPatchOp } from './KubernetesTrafficRouter';
export { readKubernetesRouterOptions, kubernetesRouterSchema, clusterSchema } from './config';
export type { KubernetesRouterOptions, ClusterOptions } from './config';
export { KubernetesDeployer, rolloutStatus } from './KubernetesDeployer';
export { readKubernetesDeployerOptions, kubernetesDeployerSchema } from './config';
export type { KubernetesDeployerOptions } from './config';
export { KubernetesChaos, readKubernetesChaosOptions, kubernetesChaosSchema } from './chaos/KubernetesChaos';
export type { KubernetesChaosOptions } from './chaos/KubernetesChaos';
export { chaosMeshResource, litmusResource } from './chaos/chaosResources';
