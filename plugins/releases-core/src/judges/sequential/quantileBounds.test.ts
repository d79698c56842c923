import { DEFAULT_LATENCY_BOUNDS_MS } from '@release-pilot/plugin-releases-common';
import { SeededRandom } from '../../simulation/random';
import { quantileLowerBound, quantileUpperBound } from './quantileBounds';

const bounds = DEFAULT_LATENCY_BOUNDS_MS;

/** Adds `n` lognormal latencies (median 90 ms, p95 about 145 ms) to de-accumulated counts. */
function observe(counts: number[], random: SeededRandom, n: number, scale = 1) {
  for (let i = 0; i < n; i++) {
    const ms = scale * random.lognormal(90, 0.29);
    const bucket = bounds.findIndex(b => ms <= b);
    counts[bucket === -1 ? bounds.length : bucket]++;
  }
}

/** The true quantile of that distribution, as the bucket bounds can place it: between which two bounds. */
function trueQuantile(q: number, scale = 1): number {
  const z = { 0.5: 0, 0.95: 1.6449, 0.99: 2.3263 }[q]!;
  return scale * 90 * Math.exp(0.29 * z);
}

describe('quantile bounds', () => {
  it('hold at every look: the true p50, p95 and p99 stay within them in at least 99 % of 200 runs of 30 looks', () => {
    const random = new SeededRandom(17);
    for (const q of [0.5, 0.95, 0.99]) {
      const truth = trueQuantile(q);
      let misses = 0;
      for (let run = 0; run < 200; run++) {
        const counts = new Array(bounds.length + 1).fill(0);
        for (let look = 0; look < 30; look++) {
          observe(counts, random, 40);
          if (quantileLowerBound(counts, bounds, q, 0.01) >= truth || quantileUpperBound(counts, bounds, q, 0.01) < truth) {
            misses++;
            break;
          }
        }
      }
      expect(misses / 200).toBeLessThanOrEqual(0.01);
    }
  });

  it('close in on the quantile as requests add up, to the buckets around it', () => {
    const random = new SeededRandom(3);
    const counts = new Array(bounds.length + 1).fill(0);
    expect(quantileLowerBound(counts, bounds, 0.95, 0.01)).toBe(0);
    expect(quantileUpperBound(counts, bounds, 0.95, 0.01)).toBe(Infinity);
    observe(counts, random, 50_000);
    // The true p95 is 145 ms: between the bounds 125 and 150.
    expect(quantileLowerBound(counts, bounds, 0.95, 0.01)).toBe(125);
    expect(quantileUpperBound(counts, bounds, 0.95, 0.01)).toBe(150);
  });

  it('catch a deliberately broken version: a fixed-sample 99 % interval checked at every look misses far more often', () => {
    // The broken bound: a bucket bound counts as below the p95 when a one-sided normal test of the
    // share above it (z 2.33, right for one look) says so.
    const brokenLowerBound = (counts: number[]) => {
      const total = counts.reduce((a, b) => a + b, 0);
      let seen = 0;
      let lower = 0;
      for (let i = 0; i < bounds.length; i++) {
        seen += counts[i];
        const share = (total - seen) / total;
        if ((share - 0.05) / Math.sqrt((0.05 * 0.95) / total) < 2.33) break;
        lower = bounds[i];
      }
      return lower;
    };
    // The true p95 just below the bound 125 ms: the hardest case, where the share above 125 ms is just under 5 %.
    const scale = 124.9 / trueQuantile(0.95);
    const missRate = (lowerBound: (counts: number[]) => number) => {
      const random = new SeededRandom(5);
      const truth = trueQuantile(0.95, scale);
      let misses = 0;
      for (let run = 0; run < 300; run++) {
        const counts = new Array(bounds.length + 1).fill(0);
        for (let look = 0; look < 50; look++) {
          observe(counts, random, 20, scale);
          if (lowerBound(counts) >= truth) {
            misses++;
            break;
          }
        }
      }
      return misses / 300;
    };
    expect(missRate(counts => quantileLowerBound(counts, bounds, 0.95, 0.01))).toBeLessThanOrEqual(0.01);
    expect(missRate(brokenLowerBound)).toBeGreaterThan(0.02);
  });
});
