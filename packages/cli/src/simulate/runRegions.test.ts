import { parseRegionScenario } from './regionScenario';
import { runRegions } from './runRegions';
import { formatRegionSimulation, simulateRegions } from './simulateRegions';

const SCENARIO = `
name: three-regions
tickSeconds: 5
startsAt: 2026-03-10T09:00:00Z
baseline: { errorRate: 0.001, latencyMs: { p50: 90, p95: 145 } }
regions:
  us-east-1: { rps: 400, utcOffsetHours: -5 }
  eu-west-1: { rps: 300, utcOffsetHours: 0 }
  ap-south-1: { rps: 200, utcOffsetHours: 5.5 }
waves: { maxParallel: 2, bakeSeconds: 60 }
`;
// A short plan keeps the test fast; the CLI runs the default production plan.
const plan = { name: 'short', steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 60, minCanaryRequests: 100 })) };
const fault = { errorRate: 0.05, latencyMs: { p50: 900, p95: 2840 } };

describe('a simulated release across regions', () => {
  it('goes wave by wave, the quietest region first, and ends with every region on the new version', async () => {
    const result = await runRegions(parseRegionScenario(SCENARIO), { seed: 7, plan });
    // 09:00 UTC is 04:00 in us-east-1: its traffic is lowest relative to its average.
    expect(result.waves).toEqual([['us-east-1'], ['ap-south-1', 'eu-west-1']]);
    expect(result.state).toBe('succeeded');
    expect(result.finalSkew).toBe(0);
    expect(Object.values(result.regions).map(r => r.version)).toEqual(['2.0.0', '2.0.0', '2.0.0']);
    // Two waves of three one-minute steps and a one-minute bake between them, in 5 s ticks.
    expect(result.minutes).toBeGreaterThanOrEqual(7);
    expect(result.minutes).toBeLessThan(9);
  });

  it('halts on a region that fails, rolls back the regions already promoted, and leaves no skew', async () => {
    const scenario = { ...parseRegionScenario(SCENARIO), fault: { region: 'eu-west-1', ...fault } };
    const result = await runRegions(scenario, { seed: 7, plan });
    expect(result.state).toBe('rolled_back');
    expect(result.failedRegion).toBe('eu-west-1');
    expect(result.failedWave).toBe(2);
    expect(result.regionsThatRanIt).toBe(3);
    expect(result.regions['us-east-1']).toEqual({ state: 'rolled_back', wave: 1, version: '1.9.0' });
    expect(result.finalSkew).toBe(0);
    expect(result.servedInFaultyRegion).toBeGreaterThan(0);
  });

  it('holds with the skew visible when the policy says to ask a person', async () => {
    const base = parseRegionScenario(SCENARIO);
    const scenario = { ...base, fault: { region: 'eu-west-1', ...fault }, waves: { ...base.waves, failurePolicy: 'hold' as const } };
    const result = await runRegions(scenario, { seed: 7, plan });
    expect(result.state).toBe('holding');
    expect(result.regions['us-east-1'].version).toBe('2.0.0');
    expect(result.regions['eu-west-1'].version).toBe('1.9.0');
    expect(result.finalSkew).toBe(1);
  });

  it('compares the waves with the same plan region after region', async () => {
    const simulation = await simulateRegions(parseRegionScenario(SCENARIO), { seed: 7, plan });
    expect(simulation.oneAtATime.waves).toEqual([['us-east-1'], ['ap-south-1'], ['eu-west-1']]);
    expect(simulation.waves.minutes).toBeLessThan(simulation.oneAtATime.minutes);
    expect(formatRegionSimulation(simulation)).toMatch(/first region to last: [\d.]+ min in waves vs [\d.]+ min region after region \(0\.\d\dx\)/);
  });

  it('refuses a scenario whose fault names an unknown region, and an unknown --fault-region', async () => {
    expect(() => parseRegionScenario(`${SCENARIO}fault: { region: mars-1, errorRate: 0.1, latencyMs: { p50: 1, p95: 2 } }\n`)).toThrow(
      "fault.region 'mars-1' is not one of the regions (us-east-1, eu-west-1, ap-south-1)",
    );
    await expect(simulateRegions(parseRegionScenario(SCENARIO), { seed: 1, faultRegion: 'mars-1' })).rejects.toThrow('--fault-region must be one of');
  });
});
