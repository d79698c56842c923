import {
  errorRate,
  histogramQuantile,
  mergeTrafficStats,
} from '@release-pilot/plugin-releases-common';
import { CHECKOUT_INCIDENT_FAULT, DEFAULT_BASELINE, SimulatedFleet } from './SimulatedFleet';
import { SeededRandom } from '@release-pilot/plugin-releases-core';
import { StaleFencingTokenError } from '@release-pilot/plugin-releases-node';

const context = { entityRef: 'component:default/checkout', releaseId: 'r1', version: '2.0.0', annotations: {} };
const faulty = { ...context, version: '2.0.0-faulty' };
const start = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

function fleet(overrides = {}) {
  return new SimulatedFleet({ seed: 7, rps: 2000, baseline: DEFAULT_BASELINE, faults: [CHECKOUT_INCIDENT_FAULT], ...overrides });
}

describe('SeededRandom', () => {
  it('draws Poisson and binomial counts with the right mean and variance', () => {
    const random = new SeededRandom(42);
    const draws = (f: () => number, n = 20000) => {
      const xs = Array.from({ length: n }, f);
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      return { mean, variance };
    };
    const small = draws(() => random.poisson(3));
    expect(small.mean).toBeCloseTo(3, 1);
    expect(small.variance).toBeCloseTo(3, 0);
    const large = draws(() => random.poisson(2000));
    expect(Math.abs(large.mean - 2000)).toBeLessThan(3);
    expect(large.variance / 2000).toBeGreaterThan(0.9);
    expect(large.variance / 2000).toBeLessThan(1.1);
    const binomial = draws(() => random.binomial(1000, 0.3));
    expect(Math.abs(binomial.mean - 300)).toBeLessThan(1);
    expect(binomial.variance / 210).toBeGreaterThan(0.9);
    expect(binomial.variance / 210).toBeLessThan(1.1);
  });

  it('repeats itself for the same key', () => {
    const a = SeededRandom.fromKey('x|1');
    const b = SeededRandom.fromKey('x|1');
    const c = SeededRandom.fromKey('x|2');
    const seqA = [a.uniform(), a.uniform()];
    expect([b.uniform(), b.uniform()]).toEqual(seqA);
    expect([c.uniform(), c.uniform()]).not.toEqual(seqA);
  });
});

describe('SimulatedFleet', () => {
  it('is deterministic under a seed and does not depend on how the interval is cut', () => {
    const whole = fleet().simulate(context, { from: at(0), to: at(10) }, 10);
    const parts = [0, 3, 7].map((s, i, all) => fleet().simulate(context, { from: at(s), to: at(all[i + 1] ?? 10) }, 10));
    expect(mergeTrafficStats(parts.map(p => p.canary))).toEqual(whole.canary);
    expect(mergeTrafficStats(parts.map(p => p.baseline))).toEqual(whole.baseline);
    expect(fleet({ seed: 8 }).simulate(context, { from: at(0), to: at(10) }, 10).canary).not.toEqual(whole.canary);
  });

  it('serves the configured request rate, split by the canary weight', () => {
    const sample = fleet().simulate(context, { from: at(0), to: at(60) }, 10);
    const total = sample.canary.requests + sample.baseline.requests;
    expect(Math.abs(total - 120000)).toBeLessThan(4 * Math.sqrt(120000));
    const share = sample.canary.requests / total;
    expect(Math.abs(share - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / total));
  });

  it('swings the traffic over the day around its average, and gives the same pattern as history', async () => {
    const seasonal = fleet({ dailyAmplitude: 0.5, peakHourUtc: 15 });
    const peak = Date.parse('2026-01-01T15:00:00Z') / 1000;
    expect(seasonal.rpsAt(peak)).toBeCloseTo(3000, 6);
    expect(seasonal.rpsAt(peak + 12 * 3600)).toBeCloseTo(1000, 6);
    const history = await seasonal.getHistory(context, { from: new Date((peak - 3600) * 1000), to: new Date((peak + 3600) * 1000), bucketSeconds: 60 });
    expect(history).toHaveLength(120);
    expect(history[0].from).toBe('2026-01-01T14:00:00.000Z');
    const busiest = history.find(b => b.from === '2026-01-01T15:00:00.000Z')!;
    expect(Math.abs(busiest.stats.requests - 180_000)).toBeLessThan(4 * Math.sqrt(180_000));
    // Deterministic per bucket, so a history read twice is the same.
    expect(await seasonal.getHistory(context, { from: new Date((peak - 3600) * 1000), to: new Date((peak + 3600) * 1000), bucketSeconds: 60 })).toEqual(history);
  });

  it('counts named counters, and shows a full-load-only fault only at weight 100', () => {
    const shop = fleet({
      baseline: { ...DEFAULT_BASELINE, counters: { orders: 0.03 } },
      faults: [{ versionPattern: /-overload$/, minWeight: 100, errorRate: 0.01, latencyMs: DEFAULT_BASELINE.latencyMs, counters: { orders: 0.03 } }],
    });
    const overload = { ...context, version: '3.0.0-overload' };
    const half = shop.simulate(overload, { from: at(0), to: at(60) }, 50);
    const full = shop.simulate(overload, { from: at(0), to: at(60) }, 100);
    expect(errorRate(half.canary)).toBeLessThan(0.001);
    expect(errorRate(full.canary)).toBeGreaterThan(0.008);
    expect(half.baseline.counters!.orders / half.baseline.requests).toBeCloseTo(0.03, 2);
  });

  it('shows a cold-start fault only in the canary\'s first seconds of traffic', async () => {
    let now = at(10).getTime();
    const cold = fleet({ faults: [{ versionPattern: /-cold$/, firstSeconds: 5, errorRate: 0.0002, latencyMs: { p50: 300, p95: 900 } }], now: () => now });
    const release = { ...context, version: '2.0.0-cold' };
    const p95 = (from: number, to: number) => histogramQuantile(cold.simulate(release, { from: at(from), to: at(to) }, 50).canary.latency, 0.95);
    expect(p95(10, 15)).toBeLessThan(155);
    await cold.setCanaryWeight(release, 50);
    now = at(12).getTime();
    await cold.setCanaryWeight(release, 60);
    expect(p95(10, 15)).toBeGreaterThan(700);
    expect(p95(15, 20)).toBeLessThan(155);
  });

  it('draws errors at the profile rate and latencies with the profile p95', () => {
    const noisy = fleet({ baseline: { errorRate: 0.01, latencyMs: { p50: 90, p95: 145 } } });
    const sample = noisy.simulate(context, { from: at(0), to: at(60) }, 50);
    for (const side of [sample.canary, sample.baseline]) {
      const sd = Math.sqrt((0.01 * 0.99) / side.requests);
      expect(Math.abs(errorRate(side) - 0.01)).toBeLessThan(4 * sd);
      const p95 = histogramQuantile(side.latency, 0.95);
      expect(p95).toBeGreaterThan(135);
      expect(p95).toBeLessThan(155);
      expect(histogramQuantile(side.latency, 0.5)).toBeGreaterThan(80);
      expect(histogramQuantile(side.latency, 0.5)).toBeLessThan(100);
    }
  });

  it('gives a -faulty canary the incident fault from its first request, and leaves the baseline healthy', () => {
    const sample = fleet().simulate(faulty, { from: at(0), to: at(120) }, 10);
    expect(histogramQuantile(sample.canary.latency, 0.95)).toBeGreaterThan(2500);
    expect(histogramQuantile(sample.baseline.latency, 0.95)).toBeLessThan(160);
    expect(errorRate(sample.canary)).toBeGreaterThan(0.001);
    expect(errorRate(sample.baseline)).toBeLessThan(0.0005);
    const firstSecond = fleet().simulate(faulty, { from: at(0), to: at(1) }, 1);
    expect(firstSecond.canary.requests).toBeGreaterThan(0);
    expect(histogramQuantile(firstSecond.canary.latency, 0.5)).toBeGreaterThan(400);
  });

  it('routes nothing to the canary at weight 0 and everything at 100', () => {
    expect(fleet().simulate(context, { from: at(0), to: at(5) }, 0).canary.requests).toBe(0);
    expect(fleet().simulate(context, { from: at(0), to: at(5) }, 100).baseline.requests).toBe(0);
  });

  it('remembers the weight per entity as a router and refuses weights outside 0-100', async () => {
    const f = fleet();
    expect(await f.getCanaryWeight(context)).toBe(0);
    await f.setCanaryWeight(context, 25);
    expect(await f.getCanaryWeight(context)).toBe(25);
    expect(await f.getCanaryWeight({ ...context, entityRef: 'component:default/other' })).toBe(0);
    await expect(f.setCanaryWeight(context, 101)).rejects.toThrow(/within 0 and 100/);
    const sample = await f.getSample(context, { from: at(0), to: at(10) });
    expect(sample.canary.requests / (sample.canary.requests + sample.baseline.requests)).toBeCloseTo(0.25, 1);
  });

  it('a router outage refuses every change of a matching version from its first rollback request for its duration', async () => {
    let now = 0;
    const f = new SimulatedFleet({ seed: 1, rps: 100, baseline: DEFAULT_BASELINE, faults: [], routerOutages: [{ versionPattern: /-routerdown$/, seconds: 30 }], now: () => now });
    const down = { ...context, version: '3.0.0-routerdown' };
    await f.setCanaryWeight(down, 10);
    await expect(f.setCanaryWeight(down, 0)).rejects.toThrow('simulated router outage: unreachable for 30 s from 1970-01-01T00:00:00.000Z');
    now = 29_000;
    await expect(f.setCanaryWeight(down, 0)).rejects.toThrow(/simulated router outage/);
    await f.setCanaryWeight({ ...context, entityRef: 'component:default/other' }, 0);
    expect(await f.getCanaryWeight(down)).toBe(10);
    now = 30_000;
    await f.setCanaryWeight(down, 0);
    expect(await f.getCanaryWeight(down)).toBe(0);
  });

  it('refuses a call with an older fencing token than one it applied for the entity', async () => {
    const f = fleet();
    await f.setCanaryWeight({ ...context, fencingToken: 7 }, 10);
    await expect(f.setCanaryWeight({ ...context, fencingToken: 6 }, 50)).rejects.toThrow(StaleFencingTokenError);
    expect(await f.getCanaryWeight(context)).toBe(10);
    await f.setCanaryWeight({ ...context, fencingToken: 7 }, 50);
    await f.setCanaryWeight({ ...context, entityRef: 'component:default/other', fencingToken: 1 }, 5);
    expect(await f.getCanaryWeight(context)).toBe(50);
  });
});
