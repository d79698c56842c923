import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { stepProgress } from './ReleaseStepper';

describe('stepProgress', () => {
  it('is the lesser of elapsed time and canary requests', () => {
    const release = { ...rolledBackRelease(), state: 'running' as const, stepCanaryRequests: 25 };
    expect(stepProgress(release, new Date('2026-01-01T00:00:04.000Z'))).toBeCloseTo(0.5);
    expect(stepProgress({ ...release, stepCanaryRequests: 500 }, new Date('2026-01-01T00:00:04.000Z'))).toBeCloseTo(0.5);
    expect(stepProgress({ ...release, stepCanaryRequests: 500 }, new Date('2026-01-01T00:01:00.000Z'))).toBe(1);
    expect(stepProgress({ ...release, state: 'succeeded' }, new Date())).toBe(1);
  });

  it('is the elapsed share of the post-release watch while watching', () => {
    const release = {
      ...rolledBackRelease(),
      state: 'watching' as const,
      plan: { ...rolledBackRelease().plan, watchSeconds: 120 },
      watchStartedAt: '2026-01-01T00:10:00.000Z',
    };
    expect(stepProgress(release, new Date('2026-01-01T00:10:30.000Z'))).toBeCloseTo(0.25);
    expect(stepProgress(release, new Date('2026-01-01T00:20:00.000Z'))).toBe(1);
  });
});
