import { stepProgress, watchProgress } from './progress';

const plan = { name: 'p', steps: [{ weight: 10, minDurationSeconds: 10, minCanaryRequests: 0 }], watchSeconds: 20 };
const at = (seconds: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + seconds * 1000);

describe('stepProgress', () => {
  it('is the lesser of time and canary requests, and never done without a canary request on a step with traffic', () => {
    const release = { plan, currentStep: 0, stepStartedAt: at(0).toISOString(), stepCanaryRequests: 0 };
    expect(stepProgress(release, at(5))).toBe(0);
    expect(stepProgress(release, at(60))).toBe(0);
    expect(stepProgress({ ...release, stepCanaryRequests: 1 }, at(5))).toBeCloseTo(0.5);
    expect(stepProgress({ ...release, stepCanaryRequests: 1 }, at(10))).toBe(1);
    const zeroWeight = { ...release, plan: { ...plan, steps: [{ weight: 0, minDurationSeconds: 10, minCanaryRequests: 0 }] } };
    expect(stepProgress(zeroWeight, at(10))).toBe(1);
  });

  it('counts from now when the step has no start yet, and is 0 past the last step', () => {
    expect(stepProgress({ plan, currentStep: 0, stepCanaryRequests: 5 }, at(3))).toBe(0);
    expect(stepProgress({ plan, currentStep: 1, stepCanaryRequests: 5, stepStartedAt: at(0).toISOString() }, at(30))).toBe(0);
  });
});

describe('watchProgress', () => {
  it('runs over the plan\'s watch seconds, and is done at once without a watch', () => {
    expect(watchProgress({ plan, watchStartedAt: at(0).toISOString() }, at(5))).toBeCloseTo(0.25);
    expect(watchProgress({ plan, watchStartedAt: at(0).toISOString() }, at(25))).toBe(1);
    expect(watchProgress({ plan: { ...plan, watchSeconds: 0 } }, at(0))).toBe(1);
  });
});
