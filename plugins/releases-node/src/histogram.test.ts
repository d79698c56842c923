import { histogramFromBuckets } from './histogram';

describe('histogramFromBuckets', () => {
  it('de-accumulates cumulative buckets and converts seconds to milliseconds', () => {
    const h = histogramFromBuckets(new Map([['0.1', 60], ['+Inf', 100], ['0.05', 20], ['0.5', 90]]), 'seconds');
    expect(h).toEqual({ boundsMs: [50, 100, 500], counts: [20, 40, 30, 10] });
  });

  it('clamps buckets that scrapes made non-monotonic, and has no histogram without buckets', () => {
    expect(histogramFromBuckets(new Map([['10', 5], ['20', 4], ['+Inf', 6]]), 'milliseconds')).toEqual({
      boundsMs: [10, 20],
      counts: [5, 0, 1],
    });
    expect(histogramFromBuckets(new Map(), 'seconds')).toBeUndefined();
  });

  it("reads Datadog's infinite bound as well as Prometheus' (upper_bound:inf)", () => {
    expect(histogramFromBuckets(new Map([['0.1', 3], ['inf', 4]]), 'seconds')).toEqual({ boundsMs: [100], counts: [3, 1] });
  });
});

