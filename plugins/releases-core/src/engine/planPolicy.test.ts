import { ConfigReader } from '@backstage/config';
import { DEFAULT_GATE_OPTIONS } from '../resilience/gate';
import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { DEFAULT_PLAN } from './plans';
import { DEFAULT_MINIMUMS, lessCarefulThan, minimumsProblems, readMinimums } from './planPolicy';

const plan = (weights: number[], seconds: number, requests = 100, extra: Partial<ReleasePlan> = {}): ReleasePlan => ({
  name: 'p',
  steps: weights.map(weight => ({ weight, minDurationSeconds: seconds, minCanaryRequests: requests })),
  ...extra,
});

describe('plan policy', () => {
  it('finds each way a plan is less careful than the risk\'s, and none when it is as careful or more', () => {
    expect(lessCarefulThan(DEFAULT_PLAN, DEFAULT_PLAN)).toEqual([]);
    // Longer steps, more requests, a longer watch and a gate: more careful in every way.
    const careful = plan([1, 5, 10, 25, 50, 100], 120, 200, { watchSeconds: 1200 });
    careful.steps[4].approval = true;
    expect(lessCarefulThan(careful, DEFAULT_PLAN)).toEqual([]);
    expect(lessCarefulThan(plan([100], 5, 10), DEFAULT_PLAN)).toEqual([
      "a jump of 100 points in weight (the risk's plan: 50)",
      "5 s in steps (the risk's plan: 6 min)",
      "10 canary requests in a step (the risk's plan: 100)",
      "a watch of 0 s (the risk's plan: 10 min)",
    ]);
    const gated = { ...DEFAULT_PLAN, steps: DEFAULT_PLAN.steps.map(s => (s.weight === 50 ? { ...s, approval: true } : s)) };
    expect(lessCarefulThan(DEFAULT_PLAN, gated)).toEqual(["0 manual gates (the risk's plan: 1)"]);
    const kill = { name: 'instance kill', fault: 'instanceKill' as const, durationSeconds: 10, recoverySeconds: 30 };
    const resilient = { ...DEFAULT_PLAN, gate: { ...DEFAULT_GATE_OPTIONS, experiments: [kill] } };
    expect(lessCarefulThan(DEFAULT_PLAN, resilient)).toEqual(["no resilience experiment 'instance kill' (the risk's plan runs it before any traffic)"]);
    expect(lessCarefulThan(resilient, DEFAULT_PLAN)).toEqual([]);
  });

  it('holds every judged step to the target\'s minimums, a blue-green switch aside', () => {
    expect(minimumsProblems(DEFAULT_PLAN, DEFAULT_MINIMUMS, 'vm')).toEqual([]);
    expect(minimumsProblems(plan([10, 100], 20, 50), { stepSeconds: 30, canaryRequests: 50 }, 'vm')).toEqual([
      "step 1 (10%) lasts 20 s; target 'vm' asks at least 30 s (releases.targets.vm.minimums.stepSeconds)",
      "step 2 (100%) lasts 20 s; target 'vm' asks at least 30 s (releases.targets.vm.minimums.stepSeconds)",
    ]);
    const blueGreen: ReleasePlan = {
      name: 'bg',
      strategy: 'blueGreen',
      steps: [{ weight: 0, minDurationSeconds: 60, minCanaryRequests: 10 }, { weight: 100, minDurationSeconds: 0, minCanaryRequests: 1 }],
    };
    expect(minimumsProblems(blueGreen, { stepSeconds: 30, canaryRequests: 5 }, 'vm')).toEqual([]);
    expect(minimumsProblems(blueGreen, { stepSeconds: 30, canaryRequests: 20 }, 'vm')).toEqual([
      "step 1 (0%) asks 10 canary requests; target 'vm' asks at least 20 (releases.targets.vm.minimums.canaryRequests)",
    ]);
  });

  it('reads minimums from config and names a bad key', () => {
    const read = (minimums: object) => readMinimums(new ConfigReader({ minimums }), 'releases.targets.vm');
    expect(read({ stepSeconds: 30 })).toEqual({ stepSeconds: 30, canaryRequests: 0 });
    expect(readMinimums(new ConfigReader({}), 'releases.targets.vm')).toBeUndefined();
    expect(() => read({ stepSeconds: 0 })).toThrow('Invalid config releases.targets.vm.minimums.stepSeconds: 0; a whole number from 1 to 86400');
    expect(() => read({ requests: 5 })).toThrow('Invalid config releases.targets.vm.minimums.requests: unknown key; use stepSeconds or canaryRequests');
  });
});
