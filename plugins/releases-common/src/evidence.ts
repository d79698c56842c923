import { MetricEvidence } from './types';

const signed = (value: number, unit: string) => `${value >= 0 ? '+' : '−'}${Math.abs(Math.round(value)).toLocaleString('en-US')}${unit}`;

/**
 * A latency quantile's shift in milliseconds and percent, with its anytime-valid lower end, e.g.
 * "+48 ms (+18 %), at least +25 ms (+10 %)"; without bounds yet, only the shift.
 */
export function describeQuantileShift(e: MetricEvidence): string {
  if (!Number.isFinite(e.canary) || !Number.isFinite(e.baseline) || e.baseline <= 0) return '';
  const shift = `${signed(e.canary - e.baseline, ' ms')} (${signed((100 * (e.canary - e.baseline)) / e.baseline, ' %')})`;
  const bounds = e.quantileBounds;
  if (!bounds || !Number.isFinite(bounds.baselineAtMostMs) || bounds.baselineAtMostMs <= 0) return shift;
  const least = bounds.canaryAboveMs - bounds.baselineAtMostMs;
  // Below zero the bounds only say the canary is not much faster: not worth the words.
  if (least <= 0) return `${shift}, not yet shown to be slower`;
  return `${shift}, at least ${signed(least, ' ms')} (${signed((100 * least) / bounds.baselineAtMostMs, ' %')})`;
}

