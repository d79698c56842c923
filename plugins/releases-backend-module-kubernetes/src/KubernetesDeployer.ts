import { AppsV1Api, PatchStrategy, setHeaderOptions, V1Deployment } from '@kubernetes/client-node';
import {
  AnnotationRule,
  Deployer,
  DeploySide,
  DeployStatus,
  ReleaseTargetContext,
  SideVersions,
} from '@release-pilot/plugin-releases-node';
import { ClusterOptions, KubernetesDeployerOptions } from './config';
import { describeError, fill, fillName, KUBERNETES_NAME, KUBERNETES_NAMESPACE, kubeConfigFor, withTimeout } from './kube';
import { KUBERNETES_ANNOTATIONS, kubernetesAnnotationRules } from './KubernetesTrafficRouter';

type Options = KubernetesDeployerOptions & { cluster: ClusterOptions };

/** Whether a Deployment finished rolling out its current spec, as `kubectl rollout status` decides it. */
export function rolloutStatus(deployment: V1Deployment): { done: boolean; progress: string } {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const done = observed && updated === desired && available === desired && total === desired;
  const progress = !observed
    ? 'waiting for the Deployment controller to observe the change'
    : `${updated} of ${desired} replicas updated, ${available} available${total > desired ? `, ${total - desired} old terminating` : ''}`;
  return { done, progress };
}

/**
 * The `kubernetes` deployer: a stable and a canary Deployment per entity. Deploying patches the
 * container's image (a strategic merge patch, scaling the canary up from 0 when it was scaled
 * down) and waits for the rollout (`observedGeneration`, `updatedReplicas`, `availableReplicas`);
 * the version each side runs is read back from its image. Every call reads first and patches only
 * what differs, so repeating one after a crash changes nothing.
 */
export class KubernetesDeployer implements Deployer {
  /** The namespace annotation (the router claims it together with the route). */
  readonly annotationRules: readonly AnnotationRule[];
  private readonly apps: AppsV1Api;
  private readonly versionOf: (image: string | undefined, context: ReleaseTargetContext) => string | undefined;

  constructor(private readonly options: Options) {
    this.annotationRules = kubernetesAnnotationRules({ namespace: options.namespace });
    this.apps = kubeConfigFor(options.cluster).makeApiClient(AppsV1Api);
    this.versionOf = (image, context) => {
      if (!image) return undefined;
      const [before, after] = fill(options.image.replace('${version}', '\u0000'), { ...context, version: '\u0000' }).split('\u0000');
      if (!image.startsWith(before) || !image.endsWith(after) || image.length <= before.length + after.length) return undefined;
      return image.slice(before.length, image.length - after.length);
    };
  }

  private where(context: ReleaseTargetContext, side: DeploySide) {
    const namespace = fillName(context.annotations[KUBERNETES_ANNOTATIONS.namespace] ?? this.options.namespace, context, KUBERNETES_NAMESPACE, 'The Kubernetes namespace');
    const name = fillName(side === 'canary' ? this.options.canaryDeployment : this.options.stableDeployment, context, KUBERNETES_NAME, `The ${side} Deployment`);
    return { namespace, name, label: `Deployment ${namespace}/${name}` };
  }

  private async read(context: ReleaseTargetContext, side: DeploySide): Promise<V1Deployment> {
    const { namespace, name, label } = this.where(context, side);
    return withTimeout(this.apps.readNamespacedDeployment({ name, namespace }), this.options.timeoutSeconds, `reading ${label}`).catch(error => {
      throw describeError(error, `reading ${label}`);
    });
  }

  private async patch(context: ReleaseTargetContext, side: DeploySide, body: object): Promise<V1Deployment> {
    const { namespace, name, label } = this.where(context, side);
    return withTimeout(
      this.apps.patchNamespacedDeployment({ name, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
      this.options.timeoutSeconds,
      `patching ${label}`,
    ).catch(error => {
      throw describeError(error, `patching ${label}`);
    });
  }

  private imageOf(deployment: V1Deployment, side: DeploySide): string | undefined {
    const container = deployment.spec?.template?.spec?.containers?.find(c => c.name === this.options.container);
    if (!container) throw new Error(`The ${side} Deployment ${deployment.metadata?.namespace}/${deployment.metadata?.name} has no container '${this.options.container}'`);
    return container.image;
  }

  async ensure(context: ReleaseTargetContext, side: DeploySide, version: string): Promise<DeployStatus> {
    let deployment = await this.read(context, side);
    const image = fill(this.options.image, { ...context, version });
    const scaledDown = side === 'canary' && (deployment.spec?.replicas ?? 1) === 0;
    if (this.imageOf(deployment, side) !== image || scaledDown) {
      deployment = await this.patch(context, side, {
        spec: {
          ...(scaledDown ? { replicas: this.options.canaryReplicas } : {}),
          template: { spec: { containers: [{ name: this.options.container, image }] } },
        },
      });
    }
    const { done, progress } = rolloutStatus(deployment);
    return { done, progress, sides: { [side]: this.versionOf(this.imageOf(deployment, side), context) } };
  }

  async scaleDownCanary(context: ReleaseTargetContext): Promise<DeployStatus> {
    let deployment = await this.read(context, 'canary');
    if ((deployment.spec?.replicas ?? 1) > 0) deployment = await this.patch(context, 'canary', { spec: { replicas: 0 } });
    const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
    const left = deployment.status?.replicas ?? 0;
    return {
      done: observed && left === 0,
      progress: left === 0 ? 'canary scaled down' : `${left} canary replicas terminating`,
      sides: { canaryUp: !(observed && left === 0) },
    };
  }

  async readSides(context: ReleaseTargetContext): Promise<SideVersions> {
    // One after the other, so the API server sees the same requests in the same order every time.
    const stable = await this.read(context, 'stable');
    const canary = await this.read(context, 'canary');
    const canaryUp = (canary.spec?.replicas ?? 1) > 0;
    return {
      stable: this.versionOf(this.imageOf(stable, 'stable'), context),
      canary: canaryUp ? this.versionOf(this.imageOf(canary, 'canary'), context) : undefined,
      canaryUp,
    };
  }
}
