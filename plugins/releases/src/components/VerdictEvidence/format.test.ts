import { MetricEvidence } from '@release-pilot/plugin-releases-common';
import { describeEvidence, formatMetric, metricLabel } from './format';

const base: MetricEvidence = {
  metric: 'p95LatencyMs',
  outcome: 'fail',
  canary: 2840,
  baseline: 145,
  canaryRequests: 60,
  baselineRequests: 5940,
  rule: 'r',
};

describe('verdict formatting', () => {
  it('formats values as owners read them', () => {
    expect(formatMetric('errorRate', 0.0018)).toBe('0.180%');
    expect(formatMetric('p95LatencyMs', 2840.4)).toBe('2,840 ms');
    expect(formatMetric('p95LatencyMs', NaN)).toBe('no data');
    expect(formatMetric('requestRate', 1234.4)).toBe('1234 requests/s');
    expect(formatMetric('counter:orders', 0.0312)).toBe('3.12 per 100 requests');
    expect(metricLabel('counter:orders')).toBe('Orders per request');
    expect(metricLabel('requestRate')).toBe('Traffic');
    expect(metricLabel('p95LatencyMs')).toBe('p95 latency');
    expect(metricLabel('p95LatencyMs', 0.99)).toBe('p99 latency');
  });

  it('puts the sequential evidence in words, and nothing for judges without it', () => {
    expect(describeEvidence({ ...base, estimate: 19.8, lowerBound: 6.2, eValue: 2300 })).toBe(
      "p95 +2,695 ms (+1,859 %); Canary slow requests 19.80x the baseline's (at least 6.20x); evidence 2,300",
    );
    expect(describeEvidence({ ...base, metric: 'errorRate', estimate: NaN, lowerBound: 0, eValue: 0.5 })).toBe(
      'Canary errors no baseline events yet; evidence 0.50',
    );
    expect(describeEvidence({ ...base, estimate: 20, lowerBound: 7, eValue: 4.8e11 })).toMatch(/evidence over 1,000,000$/);
    expect(describeEvidence(base)).toBe('');
    // A latency quantile's shift in milliseconds and percent, with the lower end its anytime-valid bounds allow.
    const p99 = { ...base, quantile: 0.99, canary: 312, baseline: 264, estimate: 1.9, lowerBound: 1.4, eValue: 150 };
    expect(describeEvidence({ ...p99, quantileBounds: { canaryAboveMs: 300, baselineAtMostMs: 275 } })).toBe(
      "p99 +48 ms (+18 %), at least +25 ms (+9 %); Canary slow requests 1.90x the baseline's (at least 1.40x); evidence 150",
    );
    expect(describeEvidence({ ...p99, quantileBounds: { canaryAboveMs: 250, baselineAtMostMs: 300 } })).toMatch(/^p99 \+48 ms \(\+18 %\), not yet shown to be slower; /);
    expect(describeEvidence({ ...base, metric: 'counter:orders', direction: 'lower', estimate: 1.6, lowerBound: 1.3, eValue: 500 })).toBe(
      "Canary orders 1.60x lower than the baseline's (at least 1.30x); evidence 500",
    );
  });
});
