import { Release, ResilienceGatePlan } from '@release-pilot/plugin-releases-common';
import { makeRelease } from '../testUtils';
import { activeFault, DEFAULT_GATE_OPTIONS, endedFault } from '../resilience/gate';
import { SeededRandom } from '../simulation/random';
import { faultOf, simulateGateTick } from '../simulation/gateTraffic';
import { EngineAction, EngineRecord, handleReleaseEvent } from './engine';

const GATE: ResilienceGatePlan = {
  ...DEFAULT_GATE_OPTIONS,
  experiments: [{ name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 20, recoverySeconds: 30 }],
};
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);

/** A managed release whose canary deploy just finished, with a gate in its plan. */
function deployed(version: string): { release: Release; records: EngineRecord[]; actions: EngineAction[] } {
  const release = makeRelease({
    version,
    state: 'deploying',
    deployMode: 'deployer',
    plan: { name: 'gated', steps: [{ weight: 10, minDurationSeconds: 5, minCanaryRequests: 10 }, { weight: 100, minDurationSeconds: 5, minCanaryRequests: 10 }], gate: GATE },
    operation: { kind: 'deployCanary', version, startedAt: at(-5).toISOString(), errors: 0, timeoutSeconds: 600 },
  });
  return handleReleaseEvent(release, { type: 'operation', status: { done: true, progress: 'ready', sides: { canary: version, canaryUp: true } } }, at(0));
}

/** Ticks the gate once a second on simulated instances until the release leaves `gating`. */
function runGate(start: Release, fragile: boolean, seed = 1) {
  const random = new SeededRandom(seed);
  let release = start;
  const records: EngineRecord[] = [];
  const actions: EngineAction[] = [];
  for (let s = 1; s < 300 && release.state === 'gating'; s++) {
    const on = activeFault(release.resilience!);
    const ended = endedFault(release.resilience!);
    const fault = on && faultOf(on);
    const after = ended && { fault: faultOf(ended.experiment), seconds: ended.seconds };
    const result = handleReleaseEvent(
      release,
      { type: 'gateTick', seconds: 1, canary: simulateGateTick(random, { fragile, rps: 50 }, 1, fault, after), stable: simulateGateTick(random, { fragile: false, rps: 50 }, 1, fault, after) },
      at(s),
    );
    release = result.release;
    records.push(...result.records);
    actions.push(...result.actions);
  }
  return { release, records, actions };
}

describe('the resilience gate in the release lifecycle', () => {
  it('runs after the canary is deployed at 0 % and, passed, starts the first step', () => {
    const start = deployed('2.0.0');
    expect(start.release.state).toBe('gating');
    expect(start.release.canaryWeight).toBe(0);
    expect(start.actions).toEqual([]);
    expect(start.records.map(r => r.type)).toEqual(['canary_deployed', 'gate_started']);
    const { release, records, actions } = runGate(start.release, false);
    expect(release.state).toBe('running');
    expect(release.resilience?.verdict).toBe('passed');
    expect(records.map(r => r.type)).toEqual(['fault_injected', 'fault_removed', 'experiment_passed', 'gate_passed', 'started']);
    expect(records.find(r => r.type === 'gate_passed')?.message).toBe('Resilience gate passed in 32 s: the canary is no less resilient than the stable side');
    // The fault and the load come off, and only then does the first production traffic come.
    expect(actions).toEqual([{ type: 'endGate' }, { type: 'setCanaryWeight', weight: 10 }]);
  });

  it('fails a fragile version before a single production request: rolled back at 0 % with the evidence', () => {
    const { release, records, actions } = runGate(deployed('2.0.0-fragile').release, true);
    expect(release.state).toBe('rolling_back');
    expect(release.canaryWeight).toBe(0);
    expect(actions.filter(a => a.type === 'setCanaryWeight' && a.weight > 0)).toEqual([]);
    expect(actions.filter(a => a.type === 'endGate')).toHaveLength(1);
    expect(release.reason).toMatch(/^resilience gate: dependency \+200 ms: Errors under dependency \+200 ms: canary \d+\.\d % vs stable/);
    expect(records.map(r => r.type)).toEqual(['fault_injected', 'experiment_failed', 'fault_removed', 'gate_failed', 'rollback_started']);
    // It never served production traffic, so there is no recovery to verify.
    expect(release.recovery?.status).toBe('not_needed');
  });

  it('pauses an inconclusive gate for a person; resuming runs the experiment again, promoting is refused', () => {
    const start = deployed('2.0.0').release;
    const half = runGate(start, false).release;
    expect(half.state).toBe('running');
    const broken = handleReleaseEvent(start, { type: 'gateError', error: 'the fault injector failed: nft: permission denied' }, at(3));
    expect(broken.release.state).toBe('paused');
    expect(broken.actions).toEqual([{ type: 'endGate' }]);
    expect(broken.release.reason).toBe(
      'Resilience gate inconclusive (dependency +200 ms): the fault injector failed: nft: permission denied. Resume to run it again, or roll back',
    );
    expect(() => handleReleaseEvent(broken.release, { type: 'user', action: 'promote', actor: 'user:default/alice' }, at(4))).toThrow(/resilience gate paused/);
    const resumed = handleReleaseEvent(broken.release, { type: 'user', action: 'resume', actor: 'user:default/alice' }, at(5));
    expect(resumed.release.state).toBe('gating');
    expect(resumed.release.resilience?.experiments[0].phase).toBe('steady');
    expect(resumed.release.resilience?.verdict).toBeUndefined();
    expect(runGate(resumed.release, false, 2).release.state).toBe('running');
    // Rolled back while the gate holds it: it never served production traffic, so there is no recovery to verify.
    const rolled = handleReleaseEvent(broken.release, { type: 'user', action: 'rollback', actor: 'user:default/alice' }, at(6));
    expect(rolled.release.recovery?.status).toBe('not_needed');
  });

  it('rolls back from the gate at a person\'s request, with no traffic to restore', () => {
    const start = deployed('2.0.0').release;
    const rolled = handleReleaseEvent(start, { type: 'user', action: 'rollback', actor: 'user:default/alice' }, at(2));
    expect(rolled.release.state).toBe('rolling_back');
    expect(rolled.release.recovery?.status).toBe('not_needed');
    expect(rolled.actions).toContainEqual({ type: 'endGate' });
  });
});
