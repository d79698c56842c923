import { describeQuantileShift, MetricEvidence, MetricName } from '@release-pilot/plugin-releases-common';

/** Human names of the judged metrics; a count metric is named after its counter, latency after its quantile. */
export function metricLabel(metric: MetricName, quantile = 0.95): string {
  if (metric === 'p95LatencyMs') return `p${Math.round(quantile * 100)} latency`;
  if (metric.startsWith('counter:')) {
    const name = metric.slice('counter:'.length);
    return `${name[0]?.toUpperCase() ?? ''}${name.slice(1)} per request`;
  }
  return { errorRate: 'Error rate', p95LatencyMs: 'p95 latency', requestRate: 'Traffic' }[metric as 'errorRate'] ?? metric;
}

/** A metric value as a service owner reads it: "0.18%", "2,840 ms", "120 requests/s" or "3 per 100 requests". */
export function formatMetric(metric: MetricName, value: number): string {
  if (!Number.isFinite(value)) return 'no data';
  if (metric === 'errorRate') return `${(value * 100).toFixed(3)}%`;
  if (metric === 'requestRate') return `${value.toFixed(value < 10 ? 1 : 0)} requests/s`;
  if (metric.startsWith('counter:')) return `${(value * 100).toFixed(2)} per 100 requests`;
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** Canary over baseline, e.g. "9.0x". */
export function formatRatio(evidence: MetricEvidence): string {
  if (!Number.isFinite(evidence.canary) || !Number.isFinite(evidence.baseline)) return '-';
  if (evidence.baseline === 0) return evidence.canary === 0 ? '1.0x' : 'n/a';
  return `${(evidence.canary / evidence.baseline).toFixed(1)}x`;
}

/**
 * The sequential test's evidence in words, e.g. "p99 +48 ms (+18 %), at least +25 ms (+10 %); Canary
 * slow requests 19.8x the baseline's (at least 6.2x); evidence 2,300". Empty for judges without it.
 */
export function describeEvidence(evidence: MetricEvidence): string {
  if (evidence.estimate === undefined || evidence.eValue === undefined) return '';
  let what = 'slow requests';
  if (evidence.metric === 'errorRate') what = 'errors';
  else if (evidence.metric.startsWith('counter:')) what = evidence.metric.slice('counter:'.length);
  const relation = evidence.direction === 'lower' ? "lower than the baseline's" : "the baseline's";
  const ratio = Number.isFinite(evidence.estimate) ? `${evidence.estimate.toFixed(2)}x ${relation}` : 'no baseline events yet';
  const bound = evidence.lowerBound && evidence.lowerBound > 0 ? ` (at least ${evidence.lowerBound.toFixed(2)}x)` : '';
  let strength = evidence.eValue.toPrecision(2);
  if (evidence.eValue >= 1e6) strength = 'over 1,000,000';
  else if (evidence.eValue >= 10) strength = Math.round(evidence.eValue).toLocaleString('en-US');
  // A latency quantile: its shift in milliseconds first, with the anytime-valid lower end.
  const shift = evidence.metric === 'p95LatencyMs' ? describeQuantileShift(evidence) : '';
  return `${shift ? `p${Math.round((evidence.quantile ?? 0.95) * 100)} ${shift}; ` : ''}Canary ${what} ${ratio}${bound}; evidence ${strength}`;
}
