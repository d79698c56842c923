/**
 * A histogram over `boundsMs` (plus one bucket above the last bound) of `requests` requests whose
 * latency has the given percentiles: the cumulative distribution passes through each percentile,
 * runs straight between them (from 0 at 0 ms), and the requests above the highest percentile fall
 * in the bucket just above it. Exact at the percentiles asked, to the bounds' resolution; a judge
 * comparing the p95 of canary and baseline compares what Datadog measured.
 */
export function histogramFromPercentiles(
  values: ReadonlyArray<{ quantile: number; ms: number }>,
  requests: number,
  boundsMs: readonly number[],
): number[] {
  const points = [...values].sort((a, b) => a.quantile - b.quantile);
  // Percentiles of a rollup can come out of order; the distribution never goes down.
  for (let i = 1; i < points.length; i++) points[i] = { ...points[i], ms: Math.max(points[i].ms, points[i - 1].ms) };
  const top = points[points.length - 1];
  // The first bound at or above the highest percentile holds it; every bound after it, everything.
  const holding = boundsMs.findIndex(b => b >= top.ms);
  const cdf = (x: number, index: number): number => {
    if (holding >= 0 && index > holding) return 1;
    if (x >= top.ms) return top.quantile;
    let previous = { quantile: 0, ms: 0 };
    for (const p of points) {
      if (x < p.ms) return previous.quantile + ((p.quantile - previous.quantile) * (x - previous.ms)) / Math.max(1e-9, p.ms - previous.ms);
      previous = p;
    }
    return top.quantile;
  };
  const counts: number[] = [];
  let below = 0;
  for (const [index, b] of boundsMs.entries()) {
    const upTo = Math.round(requests * Math.min(1, Math.max(0, cdf(b, index))));
    counts.push(Math.max(0, upTo - below));
    below = Math.max(below, upTo);
  }
  counts.push(Math.max(0, requests - below));
  return counts;
}
