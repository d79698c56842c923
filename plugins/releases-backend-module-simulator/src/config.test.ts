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

  it('reads router outages, and refuses one without a positive duration', () => {
    const read = (seconds: number) =>
      readSimulatorConfig(new ConfigReader({ releases: { simulator: { routerOutages: [{ versionPattern: '-routerdown$', seconds }] } } }));
    expect(read(20).routerOutages).toEqual([{ versionPattern: /-routerdown$/, seconds: 20 }]);
    expect(() => read(0)).toThrow('Invalid config releases.simulator.routerOutages[0].seconds: 0; it must be positive');
    expect(readSimulatorConfig(new ConfigReader({})).routerOutages).toEqual([]);
  });

  it('refuses impossible profiles with the key to fix', () => {
    expect(() => readSimulatorConfig(new ConfigReader({ releases: { simulator: { baseline: { errorRate: 2 } } } }))).toThrow(
      'Invalid config releases.simulator.baseline.errorRate: 2; it must be within 0 and 1',
    );
    expect(() =>
      readSimulatorConfig(new ConfigReader({ releases: { simulator: { faults: [{ versionPattern: '(', errorRate: 0, latencyMs: { p50: 1, p95: 2 } }] } } })),
    ).toThrow(/releases\.simulator\.faults\[0\]\.versionPattern/);
  });

  it('reads seasonality, counters and full-load-only faults; a fault inherits the baseline\'s counters unless it sets them', () => {
    const options = readSimulatorConfig(
      new ConfigReader({
        releases: {
          simulator: {
            dailyAmplitude: 0.5,
            baseline: { counters: { orders: 0.03 } },
            faults: [
              { versionPattern: '-overload$', minWeight: 100, errorRate: 0.003 },
              { versionPattern: '-no-orders$', counters: { orders: 0.01 } },
            ],
          },
        },
      }),
    );
    expect(options.dailyAmplitude).toBe(0.5);
    expect(options.faults[0]).toMatchObject({ minWeight: 100, errorRate: 0.003, counters: { orders: 0.03 } });
    expect(options.faults[1].counters).toEqual({ orders: 0.01 });
    const read = (simulator: object) => () => readSimulatorConfig(new ConfigReader({ releases: { simulator } }));
    expect(read({ dailyAmplitude: 1 })).toThrow('Invalid config releases.simulator.dailyAmplitude: 1; it must be at least 0 and below 1');
    expect(read({ baseline: { counters: { orders: 3 } } })).toThrow(/releases.simulator.baseline.counters.orders: 3; it is a chance per request/);
    expect(read({ faults: [{ versionPattern: 'x', minWeight: 120 }] })).toThrow(/faults\[0\].minWeight: 120/);
    expect(read({ faults: [{ versionPattern: 'x', firstSeconds: 0 }] })).toThrow('Invalid config releases.simulator.faults[0].firstSeconds: 0; it must be positive');
    expect(readSimulatorConfig(new ConfigReader({ releases: { simulator: { faults: [{ versionPattern: '-cold$', firstSeconds: 5 }] } } })).faults[0].firstSeconds).toBe(5);
  });
});
