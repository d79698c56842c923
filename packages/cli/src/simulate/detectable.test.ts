import { detectableEffect } from '@release-pilot/plugin-releases-core';
import { gridScenario } from '../bench/powerGrid';
import { runScenario } from './runScenario';

describe('the detectable effect simulate prints', () => {
  it('agrees with releases through the real engine: its ratio is caught in about 90 % of them, two thirds of it far less often', () => {
    const base = gridScenario('default', 300, 1);
    const { ratio } = detectableEffect({ rps: 300, baselineErrorRate: base.baseline.errorRate, steps: base.plan.steps, tickSeconds: base.tickSeconds });
    expect(ratio).toBeDefined();
    const detected = (r: number) => runScenario(gridScenario('default', 300, r), { runs: 60, seed: 100, judge: 'sequential' }).detectionSeconds.count / 60;
    expect(detected(ratio!)).toBeGreaterThanOrEqual(0.8);
    expect(detected((2 * ratio!) / 3)).toBeLessThan(0.5);
  });
});
