import { ArgoAnalysisRun, ArgoRolloutSide, ArgoRolloutStep, ArgoRolloutView } from '@release-pilot/plugin-releases-common';
import { currentStepIndex, POD_TEMPLATE_HASH, REVISION } from './ArgoRollouts';

function stepOf(step: any, index: number): ArgoRolloutStep {
  if (step.setWeight !== undefined) return { index, kind: 'setWeight', weight: step.setWeight, text: `send ${step.setWeight} % of traffic to the canary` };
  if (step.pause !== undefined) {
    const text = step.pause?.duration !== undefined ? `pause ${step.pause.duration}${/^\d+$/.test(String(step.pause.duration)) ? 's' : ''}` : 'pause until someone promotes it';
    return { index, kind: 'pause', text };
  }
  if (step.analysis) {
    const names = (step.analysis.templates ?? []).map((t: any) => t.templateName).join(', ');
    return { index, kind: 'analysis', text: `run the analysis ${names}`.trim() };
  }
  if (step.experiment) return { index, kind: 'experiment', text: `run an experiment${step.experiment.duration ? ` for ${step.experiment.duration}` : ''}` };
  if (step.setCanaryScale) return { index, kind: 'setCanaryScale', text: 'scale the canary' };
  const kind = Object.keys(step)[0] ?? 'unknown';
  return { index, kind, text: kind };
}

function sideOf(rs: any): ArgoRolloutSide {
  const revision = Number(rs.metadata?.annotations?.[REVISION]);
  return {
    replicaSet: rs.metadata?.name ?? '',
    ...(Number.isInteger(revision) && { revision }),
    images: (rs.spec?.template?.spec?.containers ?? []).map((c: any) => String(c.image)),
    replicas: rs.status?.replicas ?? 0,
    ready: rs.status?.readyReplicas ?? 0,
  };
}

function runOf(run: any): ArgoAnalysisRun {
  return {
    name: run.metadata?.name ?? '',
    phase: run.status?.phase ?? 'Pending',
    ...(run.status?.message && { message: run.status.message }),
    ...((run.status?.startedAt ?? run.metadata?.creationTimestamp) && { startedAt: run.status?.startedAt ?? run.metadata.creationTimestamp }),
    metrics: (run.status?.metricResults ?? []).map((m: any) => ({
      name: m.name,
      phase: m.phase ?? 'Pending',
      successful: m.successful ?? 0,
      failed: m.failed ?? 0,
      inconclusive: m.inconclusive ?? 0,
      measurements: (m.measurements ?? []).slice(-10).map((x: any) => ({
        phase: x.phase,
        ...(x.value !== undefined && { value: String(x.value) }),
        ...(x.startedAt && { startedAt: x.startedAt }),
        ...(x.finishedAt && { finishedAt: x.finishedAt }),
        ...(x.message && { message: x.message }),
      })),
    })),
  };
}

/** The weight the controller sets now: the last setWeight at or before the current step (100 after the last). */
function setWeight(steps: any[], index: number | undefined): number {
  if (index === undefined || index >= steps.length) return 100;
  for (let i = index; i >= 0; i--) if (steps[i].setWeight !== undefined) return steps[i].setWeight;
  return 0;
}

/** An entity's Rollout in Release Pilot's words: where it stands, both sides, its analysis, and what can be done. */
export function rolloutView(rollout: any, replicaSets: any[], runs: any[]): ArgoRolloutView {
  let strategy: ArgoRolloutView['strategy'] = 'unknown';
  if (rollout.spec?.strategy?.canary) strategy = 'canary';
  else if (rollout.spec?.strategy?.blueGreen) strategy = 'blueGreen';
  const rawSteps: any[] = rollout.spec?.strategy?.canary?.steps ?? [];
  const steps = rawSteps.map(stepOf);
  const index = currentStepIndex(rollout);
  const status = rollout.status ?? {};
  const byHash = (hash?: string) => replicaSets.find(rs => hash && rs.metadata?.labels?.[POD_TEMPLATE_HASH] === hash);
  const stableRs = byHash(status.stableRS);
  const canaryRs = status.currentPodHash !== status.stableRS ? byHash(status.currentPodHash) : undefined;
  const aborted = Boolean(status.abort);
  const pauseConditions = (status.pauseConditions ?? []).map((p: any) => ({ reason: String(p.reason), ...(p.startTime && { startTime: p.startTime }) }));
  const paused = Boolean(rollout.spec?.paused) || pauseConditions.length > 0;
  const hasCanary = status.currentPodHash !== undefined && status.currentPodHash !== status.stableRS;
  const canaryWeight = status.canary?.weights?.canary?.weight ?? (!hasCanary || aborted ? 0 : setWeight(rawSteps, index));
  const image = (rs: any) => sideOf(rs ?? {}).images.join(', ') || 'the new version';
  const at = index !== undefined && steps.length > 0 ? `step ${Math.min(index + 1, steps.length)} of ${steps.length}` : 'its last step';
  let summary: string;
  if (aborted) summary = `Aborted: all traffic is back on the stable version (${image(stableRs)}). Retry to release ${image(canaryRs)} again, or undo to put the previous version back.`;
  else if (paused && hasCanary) {
    const manual = pauseConditions.some((p: { reason: string }) => p.reason === 'CanaryPauseStep') && rawSteps[index ?? -1]?.pause?.duration === undefined;
    summary = `Paused at ${at} with ${canaryWeight} % of traffic on the canary (${image(canaryRs)})${manual ? ', until someone promotes it' : ''}.`;
  } else if (hasCanary) summary = `Releasing ${image(canaryRs)}: ${at}, ${canaryWeight} % of traffic on the canary.`;
  else summary = `Stable: ${image(stableRs)} serves all traffic.`;
  const revisions = replicaSets.filter(rs => Number.isInteger(Number(rs.metadata?.annotations?.[REVISION]))).length;
  return {
    name: rollout.metadata?.name,
    namespace: rollout.metadata?.namespace,
    strategy,
    phase: status.phase ?? 'Unknown',
    ...(status.message && { message: status.message }),
    summary,
    steps,
    ...(index !== undefined && { currentStepIndex: index }),
    canaryWeight,
    paused,
    pauseConditions,
    aborted,
    ...(stableRs && { stable: sideOf(stableRs) }),
    ...(canaryRs && { canary: sideOf(canaryRs) }),
    analysisRuns: runs.map(runOf),
    actions: {
      promote: hasCanary && !aborted ? { possible: true, why: paused ? 'Resume: go on to the next step' : 'Skip the current step' } : { possible: false, why: aborted ? 'The Rollout is aborted: retry it first' : 'Nothing is being released' },
      'promote-full': hasCanary ? { possible: true, why: 'Skip the remaining steps, pauses and analysis: the new version takes all traffic' } : { possible: false, why: 'Nothing is being released' },
      abort: hasCanary && !aborted ? { possible: true, why: 'Send all traffic back to the stable version' } : { possible: false, why: aborted ? 'Already aborted' : 'Nothing is being released' },
      retry: aborted ? { possible: true, why: 'Release the new version again from the first step' } : { possible: false, why: 'Only an aborted Rollout can be retried' },
      undo: revisions >= 2 ? { possible: true, why: "Put the previous revision's pod template back in the Rollout" } : { possible: false, why: 'No previous revision' },
    },
  };
}
