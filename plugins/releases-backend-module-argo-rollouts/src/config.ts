import { Config } from '@backstage/config';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

const namespace = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace');

export const argoRolloutsOptionsSchema = z
  .object({
    /** The cluster the Rollouts run in: its API server and a service account token (get, list, patch on rollouts and rollouts/status; list on replicasets and analysisruns). */
    cluster: z
      .object({
        url: z.url({ protocol: /^https?$/ }).transform(u => u.replace(/\/+$/, '')),
        serviceAccountToken: z.string().min(1),
        /** The API server's CA certificate (PEM, or base64 of it as in a kubeconfig). */
        caData: z.string().optional(),
        skipTLSVerify: z.boolean().default(false),
      })
      .strict(),
    /** The namespace of an entity's Rollout, unless its annotation names another one allowed below. */
    namespace: namespace.default('default'),
    /** Namespaces an entity's `release-pilot.io/argo-rollout-namespace` may name. */
    allowNamespaces: z.array(namespace).default([]),
    /** Rollout names an entity may annotate (`${entityName}`, `*`): by default its own name and names that start with it. */
    allowNames: z.array(z.string().min(1).max(253)).min(1).default(['${entityName}', '${entityName}-*']),
    timeoutSeconds: z.number().positive().max(60).default(10),
  })
  .strict();

export type ArgoRolloutsOptions = z.infer<typeof argoRolloutsOptionsSchema>;

/** Reads `releases.argoRollouts`, or undefined where it is not configured. */
export function readArgoRolloutsOptions(config: Config): ArgoRolloutsOptions | undefined {
  const at = 'releases.argoRollouts';
  if (!config.has(at)) return undefined;
  return parseConfigBlock(argoRolloutsOptionsSchema, config.getConfig(at), at);
}
