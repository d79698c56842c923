import {
  emptyTrafficStats,
  errorRate,
  histogramQuantile,
  mergeTrafficStats,
} from './trafficStats';
import { createReleaseRequestSchema, planStepsSchema } from './schema';

describe('histogramQuantile', () => {
  it('interpolates inside the bucket like Prometheus', () => {
    const h = { boundsMs: [100, 200, 400], counts: [50, 50, 0, 0] };
    expect(histogramQuantile(h, 0.5)).toBe(100);
    expect(histogramQuantile(h, 0.75)).toBe(150);
    expect(histogramQuantile(h, 1)).toBe(200);
  });

  it('is NaN when empty and the top bound in the overflow bucket', () => {
    expect(histogramQuantile({ boundsMs: [1], counts: [0, 0] }, 0.5)).toBeNaN();
    expect(histogramQuantile({ boundsMs: [1, 2], counts: [0, 0, 10] }, 0.95)).toBe(2);
  });
});

describe('mergeTrafficStats', () => {
  it('sums requests, errors and buckets', () => {
    const a = emptyTrafficStats([10]);
    a.requests = 3;
    a.errors = 1;
    a.latency.counts = [2, 1];
    const merged = mergeTrafficStats([a, a]);
    expect(merged).toEqual({ requests: 6, errors: 2, latency: { boundsMs: [10], counts: [4, 2] } });
    expect(errorRate(merged)).toBeCloseTo(1 / 3);
    expect(errorRate(emptyTrafficStats())).toBeNaN();
  });

  it('sums the named counters, a side without one counting as 0', () => {
    const a = { ...emptyTrafficStats([10]), requests: 10, counters: { orders: 3 } };
    const b = { ...emptyTrafficStats([10]), requests: 10, counters: { orders: 2, refunds: 1 } };
    const c = { ...emptyTrafficStats([10]), requests: 10 };
    expect(mergeTrafficStats([a, b, c]).counters).toEqual({ orders: 5, refunds: 1 });
  });

  it('refuses histograms with counts in different buckets, and skips empty ones whatever their buckets', () => {
    const withCounts = (bounds: number[]) => {
      const stats = emptyTrafficStats(bounds);
      stats.latency.counts[0] = 3;
      return stats;
    };
    expect(() => mergeTrafficStats([withCounts([1]), withCounts([1, 2])])).toThrow(/different buckets/);
    // A provider that saw no latency data in one interval reports an empty default histogram.
    const merged = mergeTrafficStats([emptyTrafficStats(), withCounts([100, 250]), { ...emptyTrafficStats(), requests: 4 }]);
    expect(merged.latency).toEqual({ boundsMs: [100, 250], counts: [3, 0, 0] });
    expect(merged.requests).toBe(4);
  });
});

describe('schemas', () => {
  it('require rising weights that end at 100', () => {
    expect(planStepsSchema.safeParse([{ weight: 10, minDurationSeconds: 1 }, { weight: 100, minDurationSeconds: 1 }]).success).toBe(true);
    expect(planStepsSchema.safeParse([{ weight: 50, minDurationSeconds: 1 }, { weight: 10, minDurationSeconds: 1 }]).success).toBe(false);
    expect(planStepsSchema.safeParse([]).success).toBe(false);
  });

  it('refuse unknown fields and bad versions', () => {
    expect(createReleaseRequestSchema.safeParse({ entityRef: 'component:a', version: '1.0' }).success).toBe(true);
    expect(createReleaseRequestSchema.safeParse({ entityRef: 'component:a', version: '1.0', extra: 1 }).success).toBe(false);
    expect(createReleaseRequestSchema.safeParse({ entityRef: 'component:a', version: '../etc' }).success).toBe(false);
  });
});
