import { describeQuantileShift, MetricEvidence, MetricName } from '@release-pilot/plugin-releases-common';

/** An e-value for people: whole numbers, and no astronomy. */
export function formatEValue(value: number): string {
  return value >= 1e6 ? 'over 1,000,000' : Math.round(value).toLocaleString('en-US');
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

function counterName(metric: MetricName): string | undefined {
  return metric.startsWith('counter:') ? metric.slice('counter:'.length) : undefined;
}

function formatValue(metric: MetricName, value: number): string {
  if (!Number.isFinite(value)) return 'no data';
  if (counterName(metric)) return `${(value * 100).toFixed(3).replace(/\.?0+$/, '')} per 100 requests`;
  return metric === 'errorRate'
    ? `${(value * 100).toFixed(3).replace(/\.?0+$/, '')}%`
    : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** The ratio without a finite estimate: the baseline has none (worse is higher), or the canary has none (worse is lower). */
function noneSide(direction: MetricEvidence['direction']): string {
  return direction === 'lower' ? "lower than the baseline's: the canary has none" : "above the baseline's, which has none";
}

/** The verdict's summary, from the worst metric's evidence. */
export function summarize(e: MetricEvidence, alpha: number): string {
  const counter = counterName(e.metric);
  let name = `P${Math.round((e.quantile ?? 0.95) * 100)} latency`;
  let what = 'share of slow requests';
  if (e.metric === 'errorRate') [name, what] = ['Error rate', 'error rate'];
  else if (counter) [name, what] = [`${counter[0].toUpperCase()}${counter.slice(1)}`, `${counter} rate`];
  const values = `${name} ${formatValue(e.metric, e.canary)} vs ${formatValue(e.metric, e.baseline)} baseline${e.baselineEarlier ? ' (before the canary served alone)' : ''}`;
  const relation = e.direction === 'lower' ? "lower than the baseline's" : "the baseline's";
  const shift = e.metric === 'p95LatencyMs' ? describeQuantileShift(e) : '';
  switch (e.outcome) {
    case 'fail':
    case 'warn':
      // With no events on one side the ratio has no finite estimate; say plainly which side has none.
      return `${values}${shift ? `, ${shift}` : ''}: canary ${what} ${Number.isFinite(e.estimate ?? NaN) ? `${formatRatio(e.estimate!)} ${relation}` : noneSide(e.direction)}, at least ${formatRatio(e.lowerBound ?? NaN)} with ${Math.round(100 * (1 - alpha))} % confidence`;
    case 'inconclusive':
      return `Not enough traffic yet (${e.canaryRequests} canary, ${e.baselineRequests} baseline requests)`;
    default:
      return `Canary healthy so far: ${values}`;
  }
}
