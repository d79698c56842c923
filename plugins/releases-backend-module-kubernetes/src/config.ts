import { Config } from '@backstage/config';
import { describeConfigIssues, parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

const name = z.string().regex(/^[a-z0-9${}]([-a-z0-9.${}]*[a-z0-9${}])?$/, 'a Kubernetes name (lower case, digits, "-", "."); ${entityName} is filled in');

const clusterFields = z.object({
  name: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  authProvider: z.literal('serviceAccount', { message: "only authProvider 'serviceAccount' is supported by Release Pilot" }).default('serviceAccount'),
  serviceAccountToken: z.string().min(1, 'a service account token is needed to change routes'),
  skipTLSVerify: z.boolean().default(false),
  caData: z.string().optional(),
  caFile: z.string().optional(),
});

const httpNeedsSkip = (c: { url: string; skipTLSVerify: boolean }) => !c.url.startsWith('http:') || c.skipTLSVerify;
const httpNeedsSkipIssue = { message: 'a plain http:// API server needs skipTLSVerify: true (the client refuses it otherwise)', path: ['url'] };

/** A cluster as Backstage's Kubernetes plugin configures one (`kubernetes.clusterLocatorMethods[].clusters[]`). */
export const clusterSchema = clusterFields.refine(httpNeedsSkip, httpNeedsSkipIssue);

export type ClusterOptions = z.infer<typeof clusterSchema>;

export const kubernetesRouterSchema = z
  .object({
    type: z.enum(['gateway-api', 'istio']),
    /** A cluster name from `kubernetes.clusterLocatorMethods` (type config), or the cluster itself. */
    cluster: z.union([z.string().min(1), clusterFields.extend({ name: z.string().default('inline') }).refine(httpNeedsSkip, httpNeedsSkipIssue)]),
    /** Default namespace; entities override it with release-pilot.io/kubernetes-namespace. */
    namespace: name.default('default'),
    /** The HTTPRoute or VirtualService; default `${entityName}`. */
    route: name.default('${entityName}'),
    /** Backends (Gateway API backendRef names, Istio destination hosts) of each side. */
    stableService: name.default('${entityName}-stable'),
    canaryService: name.default('${entityName}-canary'),
    /** Istio: tell the sides apart by DestinationRule subset instead of host. */
    stableSubset: z.string().optional(),
    canarySubset: z.string().optional(),
    /** API version of the route's group: v1 for both Gateway API (1.0+) and Istio (1.22+). */
    apiVersion: z.string().regex(/^v\d+(alpha\d+|beta\d+)?$/).default('v1'),
    /** Replaced by the `kubernetes` deployer, which deploys the canary at 0 % and waits for its rollout. */
    canaryDeployment: z
      .unknown()
      .refine(() => false, { message: "moved: set the image through the target's deployer (deployer: { type: kubernetes, canaryDeployment, container, image })" })
      .optional(),
    timeoutSeconds: z.number().positive().max(60).default(10),
  })
  .strict()
  .refine(o => (o.stableSubset === undefined) === (o.canarySubset === undefined), {
    message: 'set both stableSubset and canarySubset, or neither',
    path: ['canarySubset'],
  });

export type KubernetesRouterOptions = z.infer<typeof kubernetesRouterSchema>;

/**
 * A cluster given by name is looked up among the clusters of Backstage's Kubernetes plugin config
 * (`kubernetes.clusterLocatorMethods` of type `config`); an inline one is taken as it is.
 */
export function resolveCluster(cluster: string | Record<string, unknown>, at: string, rootConfig: Config): ClusterOptions {
  if (typeof cluster !== 'string') return cluster as ClusterOptions;
  const wanted = cluster;
  const known: string[] = [];
  for (const [i, method] of (rootConfig.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? []).entries()) {
    if (method.getOptionalString('type') !== 'config') continue;
    for (const [j, entry] of (method.getOptionalConfigArray('clusters') ?? []).entries()) {
      const clusterName = entry.getOptionalString('name');
      if (clusterName) known.push(clusterName);
      if (clusterName !== wanted) continue;
      const found = clusterSchema.safeParse(entry.get());
      if (!found.success) {
        throw new Error(`Invalid config ${describeConfigIssues(found.error, `kubernetes.clusterLocatorMethods[${i}].clusters[${j}]`)} (the cluster ${at}.cluster names)`);
      }
      return found.data;
    }
  }
  throw new Error(
    `Invalid config ${at}.cluster: no cluster '${wanted}' in kubernetes.clusterLocatorMethods (type config); known: ${known.join(', ') || 'none'}`,
  );
}

/** Reads a target's `router` block, resolving its cluster. */
export function readKubernetesRouterOptions(
  config: Config,
  at: string,
  rootConfig: Config,
): KubernetesRouterOptions & { cluster: ClusterOptions } {
  const options = parseConfigBlock(kubernetesRouterSchema, config, at);
  return { ...options, cluster: resolveCluster(options.cluster as string | Record<string, unknown>, at, rootConfig) };
}

export const clusterField = z.union([
  z.string().min(1),
  clusterFields.extend({ name: z.string().default('inline') }).refine(httpNeedsSkip, httpNeedsSkipIssue),
]);

/** `releases.targets.<name>.deployer` of type `kubernetes`: a stable and a canary Deployment of the entity. */
export const kubernetesDeployerSchema = z
  .object({
    type: z.literal('kubernetes'),
    cluster: clusterField,
    /** Default namespace; entities override it with release-pilot.io/kubernetes-namespace. */
    namespace: name.default('default'),
    stableDeployment: name.default('${entityName}-stable'),
    canaryDeployment: name.default('${entityName}-canary'),
    /** The container whose image carries the version. */
    container: z.string().min(1),
    /** The image with `${version}` for the release's version, e.g. registry.example.com/checkout:${version}. */
    image: z.string().includes('${version}', { message: 'the image must contain ${version}' }),
    /** Replicas of the canary while a release runs (it is scaled to 0 after). */
    canaryReplicas: z.number().int().min(1).max(1000).default(1),
    timeoutSeconds: z.number().positive().max(60).default(10),
  })
  .strict();

export type KubernetesDeployerOptions = z.infer<typeof kubernetesDeployerSchema>;

/** Reads a target's `deployer` block, resolving its cluster. */
export function readKubernetesDeployerOptions(
  config: Config,
  at: string,
  rootConfig: Config,
): KubernetesDeployerOptions & { cluster: ClusterOptions } {
  const options = parseConfigBlock(kubernetesDeployerSchema, config, at);
  return { ...options, cluster: resolveCluster(options.cluster as string | Record<string, unknown>, at, rootConfig) };
}
