import { GateFault } from '@release-pilot/plugin-releases-node';

/** The custom resources a fault becomes: Chaos Mesh's NetworkChaos, PodChaos and StressChaos, or a LitmusChaos ChaosEngine. */
export interface ChaosResource {
  group: string;
  version: string;
  plural: string;
  body: { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: Record<string, unknown> };
}

export interface ChaosTarget {
  namespace: string;
  /** The name of the resource (an RFC 1123 name). */
  name: string;
  /** The pods' labels (the canary's, or the gate's stable instance's). */
  labels: Record<string, string>;
  /** The dependency's host name or address, for dependency faults. */
  dependency?: string;
  releaseId: string;
  /** LitmusChaos: the service account its runner uses. */
  serviceAccount?: string;
}

export const RELEASE_LABEL = 'release-pilot.io/release';
const ttl = (fault: GateFault) => Math.max(1, Math.ceil(fault.ttlSeconds));

function needDependency(target: ChaosTarget, fault: GateFault): string {
  if (!target.dependency) throw new Error(`${fault.experiment.fault} needs the target's resilience.dependency (the host the service calls)`);
  return target.dependency;
}

/** Chaos Mesh: the fault as one resource on the pods of `target`, ending by itself after the TTL (`duration`). */
export function chaosMeshResource(fault: GateFault, target: ChaosTarget): ChaosResource {
  const { experiment } = fault;
  const metadata = { name: target.name, namespace: target.namespace, labels: { [RELEASE_LABEL]: target.releaseId, 'app.kubernetes.io/managed-by': 'release-pilot' } };
  const selected = { mode: 'all', selector: { namespaces: [target.namespace], labelSelectors: target.labels } };
  const duration = `${ttl(fault)}s`;
  const network = (spec: Record<string, unknown>) => ({
    group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'networkchaos',
    body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'NetworkChaos', metadata, spec: { ...selected, ...spec, duration } },
  });
  switch (experiment.fault) {
    case 'dependencyLatency':
      return network({ action: 'delay', delay: { latency: `${experiment.intensity ?? 200}ms` }, direction: 'to', externalTargets: [needDependency(target, fault)] });
    case 'dependencyUnavailable':
      return network({ action: 'partition', direction: 'to', externalTargets: [needDependency(target, fault)] });
    case 'packetLoss':
      return network({ action: 'loss', loss: { loss: String(Math.round((experiment.intensity ?? 0.1) * 100)) } });
    case 'instanceKill':
      return { group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'podchaos', body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata, spec: { ...selected, mode: 'one', action: 'pod-kill' } } };
    case 'instancePause':
      // The pods stop serving for the duration (their containers' image swapped for a pause image).
      return { group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'podchaos', body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'PodChaos', metadata, spec: { ...selected, action: 'pod-failure', duration } } };
    case 'cpuPressure':
    case 'memoryPressure': {
      const stressors =
        experiment.fault === 'cpuPressure'
          ? { cpu: { workers: 1, load: Math.round(experiment.intensity ?? 80) } }
          : { memory: { workers: 1, size: `${Math.round(experiment.intensity ?? 50)}%` } };
      return {
        group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'stresschaos',
        body: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'StressChaos', metadata, spec: { ...selected, stressors, duration } },
      };
    }
    default:
      throw new Error(`Chaos Mesh has no fault for ${experiment.fault} on outgoing calls; use the command injector or the fault proxy`);
  }
}

/** LitmusChaos: a ChaosEngine running the matching experiment on the pods of `target` for the TTL (TOTAL_CHAOS_DURATION). */
export function litmusResource(fault: GateFault, target: ChaosTarget): ChaosResource {
  const { experiment } = fault;
  const env = (values: Record<string, string>) => Object.entries({ TOTAL_CHAOS_DURATION: String(ttl(fault)), ...values }).map(([name, value]) => ({ name, value }));
  const experiments: Record<string, () => { name: string; env: Array<{ name: string; value: string }> }> = {
    dependencyLatency: () => ({ name: 'pod-network-latency', env: env({ NETWORK_LATENCY: String(experiment.intensity ?? 200), DESTINATION_HOSTS: needDependency(target, fault) }) }),
    dependencyUnavailable: () => ({ name: 'pod-network-loss', env: env({ NETWORK_PACKET_LOSS_PERCENTAGE: '100', DESTINATION_HOSTS: needDependency(target, fault) }) }),
    packetLoss: () => ({ name: 'pod-network-loss', env: env({ NETWORK_PACKET_LOSS_PERCENTAGE: String(Math.round((experiment.intensity ?? 0.1) * 100)) }) }),
    instanceKill: () => ({ name: 'pod-delete', env: env({ FORCE: 'true', PODS_AFFECTED_PERC: '1' }) }),
    cpuPressure: () => ({ name: 'pod-cpu-hog', env: env({ CPU_CORES: '1', CPU_LOAD: String(Math.round(experiment.intensity ?? 80)) }) }),
    memoryPressure: () => ({ name: 'pod-memory-hog', env: env({ MEMORY_PERCENTAGE: String(Math.round(experiment.intensity ?? 50)) }) }),
  };
  const chosen = experiments[experiment.fault];
  if (!chosen) throw new Error(`LitmusChaos has no experiment for ${experiment.fault}; use the command injector (or the fault proxy for dependency errors)`);
  const { name, env: components } = chosen();
  const applabel = Object.entries(target.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    group: 'litmuschaos.io', version: 'v1alpha1', plural: 'chaosengines',
    body: {
      apiVersion: 'litmuschaos.io/v1alpha1',
      kind: 'ChaosEngine',
      metadata: { name: target.name, namespace: target.namespace, labels: { [RELEASE_LABEL]: target.releaseId, 'app.kubernetes.io/managed-by': 'release-pilot' } },
      spec: {
        engineState: 'active',
        appinfo: { appns: target.namespace, applabel, appkind: 'deployment' },
        chaosServiceAccount: target.serviceAccount ?? 'litmus-admin',
        jobCleanUpPolicy: 'delete',
        experiments: [{ name, spec: { components: { env: components } } }],
      },
    },
  };
}

/** The kinds a clear looks through for what a release left. */
export const CHAOS_KINDS = {
  'chaos-mesh': [
    { group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'networkchaos' },
    { group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'podchaos' },
    { group: 'chaos-mesh.org', version: 'v1alpha1', plural: 'stresschaos' },
  ],
  litmus: [{ group: 'litmuschaos.io', version: 'v1alpha1', plural: 'chaosengines' }],
} as const;
