import { ArgoRolloutAction } from '@release-pilot/plugin-releases-common';
import { KubeApi, KubeApiError } from './KubeApi';

/*
 * The requests `kubectl argo rollouts` sends for each action, byte for byte (argoproj/argo-rollouts,
 * pkg/kubectl-argo-rollouts/cmd/{promote,abort,retry,undo}): merge patches of the Rollout's status
 * subresource first, falling back to the Rollout itself when the cluster's CRD has no status
 * subresource (a 404, Argo Rollouts before v0.10).
 */
const PATCH = {
  unpause: '{"spec":{"paused":false}}',
  clearPauseConditions: '{"status":{"pauseConditions":null}}',
  unpauseAndClearPauseConditions: '{"spec":{"paused":false},"status":{"pauseConditions":null}}',
  promoteFull: '{"status":{"promoteFull":true}}',
  clearPauseConditionsWithStep: (index: number) => `{"status":{"pauseConditions":null, "currentStepIndex":${index}}}`,
  unpauseAndClearPauseConditionsWithStep: (index: number) => `{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":${index}}}`,
  abort: '{"status":{"abort":true}}',
  retry: '{"status":{"abort":false}}',
};

const MERGE = 'application/merge-patch+json';
/** The label Argo Rollouts adds to each ReplicaSet's pod template; undo leaves it out. */
export const POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';
export const REVISION = 'rollout.argoproj.io/revision';

/** Where a Rollout lives. */
export interface RolloutRef {
  namespace: string;
  name: string;
}

export const rolloutPath = ({ namespace, name }: RolloutRef) => `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts/${name}`;

/** The Rollout's current canary step index, as the controller reads it (undefined without canary steps). */
export function currentStepIndex(rollout: any): number | undefined {
  const steps = rollout.spec?.strategy?.canary?.steps;
  if (!rollout.spec?.strategy?.canary || !Array.isArray(steps) || steps.length === 0) return undefined;
  return rollout.status?.currentStepIndex ?? 0;
}

/** A label selector as `metav1.LabelSelectorAsSelector(...).String()` writes it: requirements sorted by key. */
export function selectorString(selector: any): string {
  const parts: Array<[string, string]> = [];
  for (const [key, value] of Object.entries<string>(selector?.matchLabels ?? {})) parts.push([key, `${key}=${value}`]);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push([e.key, `${e.key} in (${values})`]);
    else if (e.operator === 'NotIn') parts.push([e.key, `${e.key} notin (${values})`]);
    else if (e.operator === 'Exists') parts.push([e.key, e.key]);
    else if (e.operator === 'DoesNotExist') parts.push([e.key, `!${e.key}`]);
  }
  return parts.sort((a, b) => (a[0] < b[0] ? -1 : Number(a[0] > b[0]))).map(([, text]) => text).join(',');
}

/** Deep equality of two pod templates, the hash label aside (kubectl's `equalIgnoreHash`). */
function sameTemplate(a: any, b: any): boolean {
  const strip = (t: any) => {
    const copy = structuredClone(t ?? {});
    if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
    return copy;
  };
  const canonical = (v: any): any => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map(k => [k, canonical(v[k])]));
    return v;
  };
  return JSON.stringify(canonical(strip(a))) === JSON.stringify(canonical(strip(b)));
}

/** The entity's Rollout, read and acted on through the Kubernetes API. */
export class ArgoRollouts {
  constructor(private readonly api: KubeApi) {}

  getRollout(ref: RolloutRef): Promise<any> {
    return this.api.get(rolloutPath(ref));
  }

  /** The ReplicaSets the Rollout controls (by its selector, then by owner). */
  async replicaSets(rollout: any): Promise<any[]> {
    const selector = encodeURIComponent(selectorString(rollout.spec?.selector));
    const list = await this.api.get(`/apis/apps/v1/namespaces/${rollout.metadata.namespace}/replicasets?labelSelector=${selector}`);
    return (list?.items ?? []).filter((rs: any) => (rs.metadata?.ownerReferences ?? []).some((o: any) => o.controller && o.uid === rollout.metadata.uid));
  }

  /** The AnalysisRuns the Rollout owns, newest first. */
  async analysisRuns(rollout: any): Promise<any[]> {
    const list = await this.api.get(`/apis/argoproj.io/v1alpha1/namespaces/${rollout.metadata.namespace}/analysisruns`);
    return (list?.items ?? [])
      .filter((run: any) => (run.metadata?.ownerReferences ?? []).some((o: any) => o.uid === rollout.metadata.uid))
      .sort((a: any, b: any) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')));
  }

  /** Runs an action as `kubectl argo rollouts` does; what it did, in words. */
  async act(ref: RolloutRef, action: ArgoRolloutAction): Promise<string> {
    switch (action) {
      case 'promote':
        return this.promote(ref, false);
      case 'promote-full':
        return this.promote(ref, true);
      case 'abort':
        await this.patchStatus(ref, PATCH.abort, PATCH.abort);
        return `rollout '${ref.name}' aborted`;
      case 'retry':
        await this.patchStatus(ref, PATCH.retry, PATCH.retry);
        return `rollout '${ref.name}' retried`;
      case 'undo':
        return this.undo(ref);
      default:
        throw new Error(`unknown action ${action}`);
    }
  }

  /** A status patch, or on a 404 (no status subresource) the unified patch on the Rollout; true when it fell back. */
  private async patchStatus(ref: RolloutRef, statusPatch: string, unifiedPatch: string | undefined): Promise<boolean> {
    try {
      await this.api.patch(`${rolloutPath(ref)}/status`, MERGE, statusPatch);
      return false;
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
      if (unifiedPatch !== undefined) await this.api.patch(rolloutPath(ref), MERGE, unifiedPatch);
      return true;
    }
  }

  private async promote(ref: RolloutRef, full: boolean): Promise<string> {
    const rollout = await this.getRollout(ref);
    let specPatch: string | undefined;
    let statusPatch: string | undefined;
    let unifiedPatch: string | undefined;
    if (full) {
      if (rollout.status?.currentPodHash !== rollout.status?.stableRS) statusPatch = PATCH.promoteFull;
    } else {
      unifiedPatch = PATCH.unpauseAndClearPauseConditions;
      if (rollout.spec?.paused) specPatch = PATCH.unpause;
      if ((rollout.status?.pauseConditions ?? []).length > 0) {
        statusPatch = PATCH.clearPauseConditions;
      } else if (rollout.spec?.strategy?.canary) {
        let index = currentStepIndex(rollout);
        if (index !== undefined) {
          if (index < rollout.spec.strategy.canary.steps.length) index++;
          statusPatch = PATCH.clearPauseConditionsWithStep(index);
          unifiedPatch = PATCH.unpauseAndClearPauseConditionsWithStep(index);
        }
      }
    }
    if (statusPatch) {
      // Without a status subresource the unified patch goes to the Rollout, instead of the spec patch.
      try {
        await this.api.patch(`${rolloutPath(ref)}/status`, MERGE, statusPatch);
      } catch (error) {
        if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
        specPatch = full ? undefined : unifiedPatch;
      }
    }
    if (specPatch) await this.api.patch(rolloutPath(ref), MERGE, specPatch);
    return `rollout '${ref.name}' ${full ? 'fully promoted' : 'promoted'}`;
  }

  /** Puts the previous revision's pod template back (`kubectl argo rollouts undo`). */
  private async undo(ref: RolloutRef): Promise<string> {
    const rollout = await this.getRollout(ref);
    let latest: { revision: number; rs?: any } = { revision: -1 };
    let previous: { revision: number; rs?: any } = { revision: -1 };
    for (const rs of await this.replicaSets(rollout)) {
      const raw = rs.metadata?.annotations?.[REVISION];
      const revision = raw === undefined ? 0 : Number(raw);
      if (!Number.isInteger(revision)) continue;
      if (latest.revision < revision) {
        previous = latest;
        latest = { revision, rs };
      } else if (previous.revision < revision) {
        previous = { revision, rs };
      }
    }
    if (!previous.rs) throw new KubeApiError(404, `no revision found for rollout "${ref.name}"`);
    if (sameTemplate(rollout.spec?.template, previous.rs.spec?.template)) {
      return 'skipped rollback (current template already matches revision 0)';
    }
    const template = structuredClone(previous.rs.spec.template);
    if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH];
    await this.api.patch(rolloutPath(ref), 'application/json-patch+json', JSON.stringify([{ op: 'replace', path: '/spec/template', value: template }]));
    return `rollout '${ref.name}' undo`;
  }
}
