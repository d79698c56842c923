import { defaultWaveSizes, orderByTraffic, planWaves } from './wavePlan';

describe('wave plans', () => {
  it('grows waves 1, 2, 4, then the rest, never past the parallelism', () => {
    expect(defaultWaveSizes(1, 4)).toEqual([1]);
    expect(defaultWaveSizes(3, 4)).toEqual([1, 2]);
    expect(defaultWaveSizes(12, 8)).toEqual([1, 2, 4, 5]);
    expect(defaultWaveSizes(12, 4)).toEqual([1, 2, 4, 4, 1]);
    expect(defaultWaveSizes(5, 1)).toEqual([1, 1, 1, 1, 1]);
    for (let n = 1; n <= 30; n++) {
      for (const max of [1, 2, 3, 4, 10]) {
        const sizes = defaultWaveSizes(n, max);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(max);
        expect(sizes[0]).toBe(1);
      }
    }
  });

  it('starts where traffic is lowest relative to its usual level, and ends with the busiest region', () => {
    const order = orderByTraffic(
      ['us-east-1', 'eu-west-1', 'ap-south-1', 'sa-east-1'],
      [
        { region: 'us-east-1', rps: 3000, usualRps: 2500 },
        // Night: a fifth of its usual level, though not the smallest region.
        { region: 'eu-west-1', rps: 300, usualRps: 1500 },
        { region: 'ap-south-1', rps: 900, usualRps: 1000 },
        { region: 'sa-east-1', rps: 150, usualRps: 200 },
      ],
    );
    expect(order.map(o => o.region)).toEqual(['eu-west-1', 'sa-east-1', 'ap-south-1', 'us-east-1']);
    expect(order[0].reason).toBe('first: the lowest traffic relative to its daily average (300 requests/s now, 20 % of its daily average 1,500 requests/s)');
    expect(order[3].reason).toMatch(/^last: the most traffic now/);
  });

  it('keeps the configured order, and says so, when a region has no traffic figures', () => {
    const order = orderByTraffic(['b', 'a'], [{ region: 'a', rps: 1, usualRps: 10 }]);
    expect(order.map(o => o.region)).toEqual(['b', 'a']);
    expect(order[0].reason).toContain('no traffic figures for b');
  });

  it('cuts the traffic order into waves', () => {
    const regions = Array.from({ length: 7 }, (_, i) => `r${i}`);
    const traffic = regions.map((region, i) => ({ region, rps: 100 * (7 - i), usualRps: 700 }));
    const plan = planWaves(regions, { maxParallel: 4, bakeSeconds: 60 }, traffic);
    expect(plan.waves).toEqual([['r6'], ['r5', 'r4'], ['r3', 'r2', 'r1', 'r0']]);
    expect(plan.bakeSeconds).toBe(60);
  });

  it('takes explicit waves as named, and refuses ones that miss, repeat or invent a region', () => {
    const plan = planWaves(['a', 'b', 'c'], { maxParallel: 4, bakeSeconds: 0, waves: [['c'], ['a', 'b']] });
    expect(plan.waves).toEqual([['c'], ['a', 'b']]);
    expect(plan.order[1]).toEqual({ region: 'a', reason: 'wave 2, as configured' });
    expect(() => planWaves(['a', 'b', 'c'], { maxParallel: 4, bakeSeconds: 0, waves: [['c', 'x'], ['a', 'a']] })).toThrow(
      'Invalid waves: unknown regions x (known: a, b, c); regions named twice: a; regions in no wave: b',
    );
    expect(() => planWaves([], { maxParallel: 4, bakeSeconds: 0 })).toThrow('at least one region');
  });
});
