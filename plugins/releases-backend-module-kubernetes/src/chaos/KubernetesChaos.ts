import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { AutocannonLoad, instancesResilienceSchema } from '@release-pilot/plugin-releases-backend-module-chaos';
import { Config } from '@backstage/config';
import { FaultInjector, GateFault, GateLoad, parseConfigBlock, ReleaseTargetContext, ResilienceParts } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';
import { ClusterOptions, clusterField, resolveCluster } from '../config';
import { describeError, fill, fillName, KUBERNETES_NAME, KUBERNETES_NAMESPACE, kubeConfigFor, withTimeout } from '../kube';
import { CHAOS_KINDS, chaosMeshResource, ChaosResource, litmusResource, RELEASE_LABEL } from './chaosResources';

const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?|\$\{entityName\}[-A-Za-z0-9_.]*)?$/, 'a label value; ${entityName} is filled in');
const labelsSchema = z.record(z.string().regex(/^[A-Za-z0-9./_-]{1,253}$/, 'a label key'), labelValue).refine(l => Object.keys(l).length > 0, 'at least one label');
const url = z.string().regex(/^https?:\/\/\S+$/, 'an http(s) URL; ${entityName} is filled in');

/** `releases.targets.<name>.resilience` of type `kubernetes`: Chaos Mesh or LitmusChaos resources on the canary's and a gate instance's pods. */
export const kubernetesChaosSchema = z
  .object({
    type: z.literal('kubernetes'),
    cluster: clusterField,
    /** `chaos-mesh` (NetworkChaos, PodChaos, StressChaos) or `litmus` (ChaosEngine). */
    engine: z.enum(['chaos-mesh', 'litmus']),
    namespace: z.string().regex(/^[a-z0-9${}]([-a-z0-9${}]*[a-z0-9${}])?$/).default('default'),
    /** The pods of the canary, and of a stable-version Deployment that takes no production traffic. */
    canaryLabels: labelsSchema,
    stableLabels: labelsSchema,
    /** The host the service calls (dependency faults): externalTargets in Chaos Mesh, DESTINATION_HOSTS in Litmus. */
    dependency: z.string().regex(/^[a-z0-9.-]+$/).optional(),
    /** LitmusChaos: the runner's service account. */
    chaosServiceAccount: z.string().regex(/^[a-z0-9.-]+$/).default('litmus-admin'),
    /** The synthetic load (autocannon) on each side's Service. */
    load: z
      .object({ canaryUrl: url, stableUrl: url, rps: z.number().positive().max(10_000).default(50), connections: z.number().int().positive().max(256).default(8), timeoutSeconds: z.number().positive().max(30).default(2) })
      .strict(),
    timeoutSeconds: z.number().positive().max(60).default(10),
  })
  .strict();

export type KubernetesChaosOptions = z.infer<typeof kubernetesChaosSchema> & { cluster: ClusterOptions };

export function readKubernetesChaosOptions(config: Config, at: string, rootConfig: Config): KubernetesChaosOptions {
  const options = parseConfigBlock(kubernetesChaosSchema, config, at);
  return { ...options, cluster: resolveCluster(options.cluster as string | Record<string, unknown>, at, rootConfig) };
}

/**
 * The resilience gate on Kubernetes: each fault becomes a Chaos Mesh resource or a LitmusChaos
 * ChaosEngine per side (the canary's pods, and a stable-version Deployment no route sends users
 * to), created through the API server with the TTL as its duration, so the cluster ends it even if
 * every backend died; clearing deletes the release's resources (found by label). The load is
 * autocannon's, on each side's Service URL.
 */
export class KubernetesChaos implements FaultInjector, ResilienceParts {
  readonly load: GateLoad;
  readonly #objects: CustomObjectsApi;
  readonly #applied = new Map<string, string | 'clear'>();

  constructor(private readonly options: KubernetesChaosOptions) {
    this.#objects = kubeConfigFor(options.cluster).makeApiClient(CustomObjectsApi);
    this.load = new AutocannonLoad(
      instancesResilienceSchema.parse({
        type: 'instances',
        instances: { canary: { url: options.load.canaryUrl }, stable: { url: options.load.stableUrl } },
        load: { rps: options.load.rps, connections: options.load.connections, timeoutSeconds: options.load.timeoutSeconds },
      }),
    );
  }

  get injector(): FaultInjector {
    return this;
  }

  private namespace(context: ReleaseTargetContext): string {
    return fillName(this.options.namespace, context, KUBERNETES_NAMESPACE, 'The chaos namespace');
  }

  private resources(context: ReleaseTargetContext, fault: GateFault): ChaosResource[] {
    const namespace = this.namespace(context);
    const index = fault.id.split('/').pop()!;
    return (['canary', 'stable'] as const).map(side => {
      const labels = Object.fromEntries(Object.entries(side === 'canary' ? this.options.canaryLabels : this.options.stableLabels).map(([k, v]) => [k, fill(v, context)]));
      const name = fillName(`rp-${context.releaseId.slice(0, 8).toLowerCase()}-${index}-${side}`, context, KUBERNETES_NAME, 'The chaos resource');
      const target = { namespace, name, labels, dependency: this.options.dependency, releaseId: context.releaseId, serviceAccount: this.options.chaosServiceAccount };
      return this.options.engine === 'chaos-mesh' ? chaosMeshResource(fault, target) : litmusResource(fault, target);
    });
  }

  private call<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(promise, this.options.timeoutSeconds, what).catch(error => {
      throw describeError(error, what);
    });
  }

  async inject(context: ReleaseTargetContext, fault: GateFault): Promise<void> {
    if (this.#applied.get(context.releaseId) === fault.id) return;
    const resources = this.resources(context, fault);
    if (this.#applied.has(context.releaseId) && this.#applied.get(context.releaseId) !== 'clear') await this.clear(context);
    for (const r of resources) {
      const { name, namespace } = r.body.metadata;
      const request = { group: r.group, version: r.version, namespace, plural: r.plural };
      // Create once: after a takeover the resource may already be there (409), which is what we want.
      await this.call(this.#objects.createNamespacedCustomObject({ ...request, body: r.body }), `creating ${r.body.kind} ${namespace}/${name}`).catch(error => {
        if (!/HTTP 409/.test(String(error.message))) throw error;
      });
    }
    this.#applied.set(context.releaseId, fault.id);
  }

  async clear(context: ReleaseTargetContext): Promise<void> {
    if (this.#applied.get(context.releaseId) === 'clear') return;
    const namespace = this.namespace(context);
    for (const kind of CHAOS_KINDS[this.options.engine]) {
      const request = { group: kind.group, version: kind.version, namespace, plural: kind.plural };
      const list = (await this.call(this.#objects.listNamespacedCustomObject({ ...request, labelSelector: `${RELEASE_LABEL}=${context.releaseId}` }), `listing ${kind.plural}`)) as { items?: Array<{ metadata: { name: string } }> };
      for (const item of list.items ?? []) {
        const name = item.metadata.name;
        if (this.options.engine === 'litmus') {
          // Litmus aborts a running experiment when its engine is stopped; then the engine goes.
          await this.call(
            this.#objects.patchNamespacedCustomObject({ ...request, name, body: { spec: { engineState: 'stop' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
            `stopping ChaosEngine ${namespace}/${name}`,
          );
        }
        await this.call(this.#objects.deleteNamespacedCustomObject({ ...request, name }), `deleting ${kind.plural} ${namespace}/${name}`).catch(error => {
          if (!/HTTP 404/.test(String(error.message))) throw error;
        });
      }
    }
    this.#applied.set(context.releaseId, 'clear');
  }
}
