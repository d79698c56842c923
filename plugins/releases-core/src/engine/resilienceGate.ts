import { GateTick, Release } from '@release-pilot/plugin-releases-common';
import { newExperimentState } from '../resilience/experimentJudge';
import { activeFault, newGateState, updateGate } from '../resilience/gate';
import { InvalidTransitionError } from './errors';
import { enterFirstStep } from './lifecycle';
import { startRollback } from './rollback';
import { EngineAction, EngineOptions, EngineRecord, EngineResult, transition } from './types';

/**
 * The resilience gate in the release's lifecycle: once the canary is deployed and ready at 0 %, a
 * plan with `gate` runs its experiments (state `gating`) before the first step. The driver injects
 * the fault the gate's state asks for (`activeFault`) into the canary and a stable instance, drives
 * the synthetic load and reports both sides' answers each tick (`gateTick`). Pass: the first step.
 * Fail: rolled back before a single production request (the canary is scaled down). Inconclusive
 * (no load, an injector or load error): paused for a person; resuming runs the experiment again.
 */

const GATE_ACTOR = 'resilience gate';
const END_GATE: EngineAction = { type: 'endGate' };

/** The canary is ready: the gate begins (or, without one, the first step). */
export function enterGateOrFirstStep(release: Release, now: Date): EngineResult {
  const gate = release.plan.gate;
  if (!gate) return enterFirstStep(release, now);
  const names = gate.experiments.map(e => e.name).join(', ');
  return {
    release: { ...transition(release, 'gating', now, 'gate'), operation: undefined, resilience: { ...newGateState(gate.experiments), startedAt: now.toISOString() } },
    actions: [],
    records: [
      {
        type: 'gate_started',
        actor: GATE_ACTOR,
        message: `Resilience gate: ${gate.experiments.length} experiment${gate.experiments.length === 1 ? '' : 's'} (${names}) on the canary and a stable instance, before any production traffic`,
        data: { experiments: gate.experiments.map(e => e.name) },
      },
    ],
  };
}

/** One tick of the gate: both sides' answers since the last one. */
export function onGateTick(release: Release, event: { canary: GateTick; stable: GateTick; seconds: number }, now: Date, options: EngineOptions): EngineResult {
  if (release.state !== 'gating' || !release.resilience || !release.plan.gate) throw new InvalidTransitionError(release.state, 'run the resilience gate of');
  const before = release.resilience;
  const after = { ...updateGate(before, event, release.plan.gate), startedAt: before.startedAt };
  const records: EngineRecord[] = [];
  const wasOn = activeFault(before);
  const isOn = activeFault(after);
  // The experiments this tick finished (at most the running one), then the fault's changes.
  for (let i = before.index; i <= after.index; i++) {
    const was = before.experiments[i];
    const is = after.experiments[i];
    if (!was.verdict && is.verdict === 'passed') {
      records.push({ type: 'experiment_passed', actor: GATE_ACTOR, message: `${is.experiment.name}: passed. ${is.evidence.join('. ')}`, data: { experiment: i } });
    }
    if (!was.verdict && is.verdict === 'failed') {
      records.push({ type: 'experiment_failed', actor: GATE_ACTOR, message: `${is.experiment.name}: failed. ${is.evidence.at(-1)}`, data: { experiment: i } });
    }
  }
  if (wasOn && wasOn !== isOn) records.push({ type: 'fault_removed', actor: GATE_ACTOR, message: `${wasOn.name}: fault removed from both instances` });
  if (isOn && isOn !== wasOn) {
    records.push({
      type: 'fault_injected',
      actor: GATE_ACTOR,
      message: `${isOn.name}: ${isOn.fault}${isOn.intensity !== undefined ? ` (${isOn.intensity})` : ''} on the canary and the stable instance for ${isOn.durationSeconds} s`,
      data: { experiment: after.index },
    });
  }
  const next: Release = { ...release, resilience: after };
  if (after.verdict === 'passed') {
    const entered = enterFirstStep(next, now);
    const seconds = before.startedAt ? (now.getTime() - Date.parse(before.startedAt)) / 1000 : undefined;
    return {
      ...entered,
      actions: [END_GATE, ...entered.actions],
      records: [
        ...records,
        { type: 'gate_passed', actor: GATE_ACTOR, message: `Resilience gate passed${seconds !== undefined ? ` in ${seconds.toFixed(0)} s` : ''}: the canary is no less resilient than the stable side`, data: { seconds } },
        ...entered.records,
      ],
    };
  }
  if (after.verdict === 'failed') {
    const failed = after.experiments[after.index];
    const why = `resilience gate: ${failed.experiment.name}: ${failed.evidence.at(-1)}`;
    const rollback = startRollback(next, now, GATE_ACTOR, why, options);
    return { ...rollback, records: [...records, { type: 'gate_failed', actor: GATE_ACTOR, message: `Resilience gate failed before any production traffic: ${failed.evidence.at(-1)}` }, ...rollback.records] };
  }
  if (after.verdict === 'inconclusive') return inconclusive(next, after.experiments[after.index].evidence.at(-1) ?? 'no verdict', now, records);
  return { release: next, actions: [], records };
}

/** The fault injector or the load failed: the experiment cannot say anything, and the release waits for a person. */
export function onGateError(release: Release, error: string, now: Date): EngineResult {
  if (release.state !== 'gating' || !release.resilience) throw new InvalidTransitionError(release.state, 'run the resilience gate of');
  const gate = release.resilience;
  const current = gate.experiments[gate.index];
  const failedExperiment = { ...current, phase: 'done' as const, verdict: 'inconclusive' as const, evidence: [...current.evidence, error] };
  const next: Release = {
    ...release,
    resilience: { ...gate, verdict: 'inconclusive', experiments: gate.experiments.map((e, i) => (i === gate.index ? failedExperiment : e)) },
  };
  return inconclusive(next, error, now, []);
}

function inconclusive(release: Release, why: string, now: Date, records: EngineRecord[]): EngineResult {
  const name = release.resilience!.experiments[release.resilience!.index].experiment.name;
  const reason = `Resilience gate inconclusive (${name}): ${why}. Resume to run it again, or roll back`;
  return {
    release: { ...transition(release, 'paused', now, 'pause'), reason },
    actions: [END_GATE],
    records: [...records, { type: 'gate_inconclusive', actor: GATE_ACTOR, message: reason }],
  };
}

/** Resuming a release the gate paused: its inconclusive experiment runs again from its steady state. */
export function resumeGate(release: Release, actor: string, reason: string | undefined, now: Date): EngineResult {
  const gate = release.resilience!;
  const again = newExperimentState(gate.experiments[gate.index].experiment);
  return {
    release: {
      ...transition(release, 'gating', now, 'resume'),
      reason: undefined,
      resilience: { ...gate, verdict: undefined, experiments: gate.experiments.map((e, i) => (i === gate.index ? again : e)) },
    },
    actions: [],
    records: [{ type: 'resumed', actor, message: `Running ${again.experiment.name} again${reason ? `: ${reason}` : ''}` }],
  };
}

/** Whether a paused release waits on its resilience gate (resume runs the experiment again, promote is refused). */
export function pausedInGate(release: Release): boolean {
  return release.state === 'paused' && release.resilience?.verdict === 'inconclusive';
}

