import { ConfigReader } from '@backstage/config';
import { readSimulatorConfig } from './config';

describe('readSimulatorConfig', () => {
  it('defaults to the checkout incident demo', () => {
    const options = readSimulatorConfig(new ConfigReader({}));
    expect(options.rps).toBe(2000);
    expect(options.faults[0].versionPattern.test('1.2.3-faulty')).toBe(true);
    expect(options.faults[0].latencyMs.p95).toBe(2840);
  });

  it('reads fault profiles', () => {
    const options = readSimulatorConfig(
      new ConfigReader({ releases: { simulator: { faults: [{ versionPattern: '-slow$', errorRate: 0.001, latencyMs: { p50: 100, p95: 400 } }] } } }),
    );
    expect(options.faults).toHaveLength(1);
    expect(options.faults[0].versionPattern.test('2-slow')).toBe(true);
    expect(options.faults[0].latencyMs.p95).toBe(400);
  });

  it('refuses impossible profiles with the key to fix', () => {
    expect(() => readSimulatorConfig(new ConfigReader({ releases: { simulator: { baseline: { errorRate: 2 } } } }))).toThrow(
      'Invalid config releases.simulator.baseline.errorRate: 2; it must be within 0 and 1',
    );
    expect(() =>
      readSimulatorConfig(new ConfigReader({ releases: { simulator: { faults: [{ versionPattern: '(', errorRate: 0, latencyMs: { p50: 1, p95: 2 } }] } } })),
    ).toThrow(/releases\.simulator\.faults\[0\]\.versionPattern/);
  });
});
