import { KubeConfig } from '@kubernetes/client-node';
import { checkedValue, entityNameOf, patternRule, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { ClusterOptions } from './config';

/** Fills `${entityName}` (the entity ref's name) and `${version}` into a name or image template. */
export function fill(template: string, context: ReleaseTargetContext): string {
  const name = entityNameOf(context);
  return template.replaceAll('${entityName}', name).replaceAll('${version}', context.version);
}

/** A namespace: an RFC 1123 label, as the API server takes it in a path. */
export const KUBERNETES_NAMESPACE = patternRule(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace: lower-case letters, digits and -, 1 to 63 characters');
/** An object's name (route, service, Deployment): an RFC 1123 subdomain. */
export const KUBERNETES_NAME = patternRule(
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  'a Kubernetes object name: lower-case letters, digits, - and ., 1 to 253 characters',
);

/** A name template filled for a release and checked before it goes into an API path or body. */
export function fillName(template: string, context: ReleaseTargetContext, rule: typeof KUBERNETES_NAME, what: string): string {
  return checkedValue(fill(template, context), rule, what);
}

export function describeError(error: unknown, what: string): Error {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === 'number') {
    let message = '';
    try {
      message = typeof e.body === 'string' ? JSON.parse(e.body).message ?? e.body : (e.body as any)?.message ?? '';
    } catch {
      message = String(e.body);
    }
    let hint = '';
    if (e.code === 404) hint = ' (does it exist in that namespace?)';
    if (e.code === 401 || e.code === 403) hint = ' (check the service account token and its RBAC: get and patch on the route and the Deployments)';
    return new Error(`Kubernetes API: ${what} failed with HTTP ${e.code}${hint}: ${message}`);
  }
  return new Error(`Kubernetes API: ${what} failed: ${e.message ?? String(error)}`);
}

export async function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kubernetes API: ${what} got no answer within ${seconds}s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}


/** A client config for one cluster, authenticated with its service account token. */
export function kubeConfigFor(cluster: ClusterOptions): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.url, skipTLSVerify: cluster.skipTLSVerify, caData: cluster.caData, caFile: cluster.caFile }],
    users: [{ name: 'release-pilot', token: cluster.serviceAccountToken }],
    contexts: [{ name: 'release-pilot', cluster: cluster.name, user: 'release-pilot' }],
    currentContext: 'release-pilot',
  });
  return kc;
}
