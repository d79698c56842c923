import { GateTick, ResilienceExperiment, ResilienceGatePlan } from '@release-pilot/plugin-releases-common';
import { simulateGate } from '../simulation/gateTraffic';
import { activeFault, DEFAULT_GATE_OPTIONS, endedFault, newGateState, updateGate } from './gate';

const LATENCY: ResilienceExperiment = { name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 30, recoverySeconds: 30 };
const KILL: ResilienceExperiment = { name: 'instance kill', fault: 'instanceKill', durationSeconds: 5, recoverySeconds: 30 };
const gate = (experiments: ResilienceExperiment[], extra: Partial<ResilienceGatePlan> = {}): ResilienceGatePlan => ({ ...DEFAULT_GATE_OPTIONS, experiments, ...extra });

const runGate = simulateGate;

describe('the resilience gate', () => {
  it('passes a healthy version: no worse than stable under dependency latency and back as fast', () => {
    const { state, seconds } = runGate(gate([LATENCY]), { fragile: false }, 1);
    expect(state.verdict).toBe('passed');
    // 10 s steady, 30 s fault, two good ticks of recovery.
    expect(seconds).toBe(42);
    expect(state.experiments[0].evidence.join('\n')).toMatch(/Under dependency \+200 ms: errors canary .* vs stable .*p95 canary 2\d\d ms vs stable 2\d\d ms: no worse within the margins/);
    expect(state.experiments[0].evidence.join('\n')).toMatch(/Recovered from dependency \+200 ms: canary in 0 s, stable in 0 s/);
  });

  it('keeps both sides per tick through the steady state, the fault and the recovery, for the charts', () => {
    const { state } = runGate(gate([LATENCY]), { fragile: false }, 1);
    const series = state.experiments[0].series!;
    expect(series.map(p => p.t)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    expect(series.filter(p => p.phase === 'steady')).toHaveLength(10);
    expect(series.filter(p => p.phase === 'fault')).toHaveLength(30);
    expect(series.filter(p => p.phase === 'recovery')).toHaveLength(2);
    // Under +200 ms both sides' p95 is above 200 ms; before it, well below.
    expect(series.filter(p => p.phase === 'fault').every(p => p.canary.latencyMs! > 200 && p.stable.latencyMs! > 200)).toBe(true);
    expect(series.filter(p => p.phase === 'steady').every(p => p.canary.latencyMs! < 200)).toBe(true);
    const fragile = runGate(gate([LATENCY]), { fragile: true }, 1).state.experiments[0].series!;
    expect(Math.max(...fragile.filter(p => p.phase === 'fault').map(p => p.canary.errorRate!))).toBeGreaterThan(0.2);
  });

  it('does not block a canary a few ms slower on fast answers (the absolute latency margin), but does without it', () => {
    // Under an unavailable dependency both sides answer errors fast: stable in ~10 ms, a fresh canary in ~18 ms.
    const unavailable: ResilienceExperiment = { name: 'dependency unavailable', fault: 'dependencyUnavailable', durationSeconds: 20, recoverySeconds: 30 };
    const side = (base: number, i: number): GateTick => ({ requests: 40, errors: 40, latenciesMs: Array.from({ length: 40 }, (_, k) => base + ((k * 7 + i) % 10)) });
    const run = (latencyMs: number) => {
      const plan = gate([unavailable], { margins: { ...DEFAULT_GATE_OPTIONS.margins, latencyMs } });
      let state = newGateState(plan.experiments);
      for (let i = 0; i < 40 && !state.verdict; i++) state = updateGate(state, { canary: side(18, i), stable: side(10, i), seconds: 1 }, plan);
      return state;
    };
    expect(run(50).experiments[0].slowThresholdMs).toBeGreaterThan(60);
    expect(run(50).verdict).toBe('passed');
    expect(run(0).verdict).toBe('failed');
  });

  it('passes a healthy version through a pause and memory pressure: both sides equally down, then equally slower', () => {
    const plan = gate([
      { name: 'pause', fault: 'instancePause', durationSeconds: 5, recoverySeconds: 30 },
      { name: 'memory 50 %', fault: 'memoryPressure', intensity: 50, durationSeconds: 20, recoverySeconds: 30 },
    ]);
    const verdicts = Array.from({ length: 50 }, (_, seed) => runGate(plan, { fragile: false }, 300 + seed).state.verdict);
    expect(verdicts.filter(v => v !== 'passed')).toEqual([]);
  });

  it('thins a long series instead of cutting it', () => {
    const long = gate([{ ...LATENCY, durationSeconds: 1200 }]);
    const series = runGate(long, { fragile: false }, 2).state.experiments[0].series!;
    expect(series.length).toBeLessThanOrEqual(600);
    expect(series.at(-1)!.t).toBe(1212);
    expect(series[0].t).toBeLessThan(10);
  });

  it('fails a fragile version within seconds of the fault, on its errors', () => {
    const { state, seconds, faultSeconds } = runGate(gate([LATENCY]), { fragile: true }, 1);
    expect(state.verdict).toBe('failed');
    expect(faultSeconds.length).toBeLessThanOrEqual(5);
    expect(seconds).toBeLessThan(16);
    expect(state.experiments[0].evidence[0]).toMatch(/^Errors under dependency \+200 ms: canary \d+\.\d % vs stable \d\.\d+ %, at least \d+\.\d\dx the stable side's rate with 99\.5 % confidence \(allowed: 1\.5x\)$/);
  });

  it('blocks no healthy version in 200 seeds of two experiments', () => {
    const plan = gate([LATENCY, { name: 'CPU 80 %', fault: 'cpuPressure', intensity: 80, durationSeconds: 20, recoverySeconds: 30 }]);
    const verdicts = Array.from({ length: 200 }, (_, seed) => runGate(plan, { fragile: false }, 1000 + seed).state.verdict);
    const blocked = verdicts.filter(v => v !== 'passed').length;
    expect(blocked).toBe(0);
  });

  it('blocks at most α of versions exactly at the margin (errors 1.5x the stable side\'s), and catches 3x', () => {
    const plan = gate([{ name: 'dependency errors 10 %', fault: 'dependencyErrors', intensity: 0.1, durationSeconds: 30, recoverySeconds: 30 }]);
    const blocked = (errorFactor: number) =>
      Array.from({ length: 500 }, (_, seed) => simulateGate(plan, { fragile: false, errorFactor }, 5000 + seed).state.verdict).filter(v => v === 'failed').length / 500;
    expect(blocked(1.5)).toBeLessThanOrEqual(plan.alpha);
    expect(blocked(3)).toBeGreaterThanOrEqual(0.95);
  });

  it('fails a canary that does not come back after the fault, and one that is back much later than stable', () => {
    const plan = gate([KILL]);
    const up = (): GateTick => ({ requests: 50, errors: 0, latenciesMs: Array.from({ length: 50 }, (_, i) => 18 + (i % 5)) });
    const down = (): GateTick => ({ requests: 50, errors: 50, latenciesMs: [] });
    const feed = (canaryBackAfter: number) => {
      let state = newGateState(plan.experiments);
      for (let t = 0; t < 200 && !state.verdict; t++) {
        const after = endedFault(state)?.seconds;
        const faulty = activeFault(state) !== undefined;
        const canaryDown = faulty || (after !== undefined && after < canaryBackAfter);
        state = updateGate(state, { canary: canaryDown ? down() : up(), stable: faulty ? down() : up(), seconds: 1 }, plan);
      }
      return state;
    };
    const never = feed(Infinity);
    expect(never.verdict).toBe('failed');
    expect(never.experiments[0].evidence.at(-1)).toBe('After instance kill the canary was not back at its steady level within 30 s (stable: 0 s)');
    const late = feed(15);
    expect(late.verdict).toBe('failed');
    expect(late.experiments[0].evidence.at(-1)).toBe('After instance kill the canary took 15 s to recover, the stable side 0 s (allowed: 10 s more)');
    expect(feed(8).verdict).toBe('passed');
  });

  it('is inconclusive without load, never passing', () => {
    const { state } = runGate(gate([LATENCY]), { fragile: false, rps: 0 }, 1);
    expect(state.verdict).toBe('inconclusive');
    expect(state.experiments[0].evidence).toEqual(['No load: canary answered fewer than 20 requests in 10 s of steady state']);
  });

  it('fails a canary past an absolute SLO even when stable is as bad', () => {
    const { state } = runGate(gate([LATENCY], { slo: { latencyMs: 150 } }), { fragile: false }, 1);
    expect(state.verdict).toBe('failed');
    expect(state.experiments[0].evidence.at(-1)).toMatch(/^Under dependency \+200 ms the canary broke its SLO: p95 2\d\d ms above the SLO's 150 ms$/);
  });

  it('runs the experiments one after the other and stops at the first failure', () => {
    const plan = gate([{ ...LATENCY, name: 'CPU', fault: 'cpuPressure', intensity: 80 }, LATENCY, KILL]);
    const { state } = runGate(plan, { fragile: true }, 2);
    expect(state.verdict).toBe('failed');
    expect(state.index).toBe(1);
    expect(state.experiments.map(e => e.verdict)).toEqual(['passed', 'failed', undefined]);
  });
});
