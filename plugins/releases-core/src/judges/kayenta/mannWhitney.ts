import { brentRoot } from '../brent';
import { normalQuantile } from '../../math/normal';

/** R's `wilcox.test` finds its roots with `uniroot(tol = 1e-4)`; Kayenta ties out against it. */
const ROOT_TOLERANCE = 1e-4;

/** Hodges-Lehmann estimate of the shift `experiment - control` and its confidence interval. */
export interface MannWhitneyInterval {
  lower: number;
  upper: number;
  estimate: number;
}

/** Ranks with ties averaged (1-based), as Apache Commons' NaturalRanking with TiesStrategy.AVERAGE. */
function averageRanks(values: number[]): { ranks: Float64Array; tieCorrection: number } {
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Float64Array(values.length);
  let tieCorrection = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end][0] === order[start][0]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k][1]] = rank;
    const ties = end - start;
    tieCorrection += ties ** 3 - ties;
    start = end;
  }
  return { ranks, tieCorrection };
}

/**
 * The asymptotic two-sample Wilcoxon confidence interval and Hodges-Lehmann estimate of the shift
 * `experiment - control`, as R's `wilcox.test(experiment, control, conf.int = TRUE, exact = FALSE,
 * correct = TRUE)` and Kayenta compute them: the roots in mu of the continuity-corrected standardized
 * rank-sum statistic of (experiment - mu) against control, bounded by the extreme differences.
 */
export function mannWhitneyInterval(
  control: number[],
  experiment: number[],
  confidenceLevel: number,
): MannWhitneyInterval {
  const n = experiment.length;
  const m = control.length;
  if (n === 0 || m === 0) throw new Error('Mann-Whitney needs data on both sides');
  const muMin = Math.min(...experiment) - Math.max(...control);
  const muMax = Math.max(...experiment) - Math.min(...control);

  // The standardized statistic minus a normal quantile; non-increasing in mu.
  const standardized = (mu: number, quantile: number): number => {
    const { ranks, tieCorrection } = averageRanks([...experiment.map(x => x - mu), ...control]);
    let rankSum = 0;
    for (let i = 0; i < n; i++) rankSum += ranks[i];
    const dz = rankSum - (n * (n + 1)) / 2 - (n * m) / 2;
    const correction = Math.sign(dz) * 0.5;
    const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - tieCorrection / ((n + m) * (n + m - 1))));
    if (sigma === 0) throw new Error('Cannot compute a confidence interval when all observations are tied');
    return (dz - correction) / sigma - quantile;
  };

  // Brent's method on the bracket [muMin, muMax], unless an end of it is already past the root.
  const root = (quantile: number): number => {
    const fLower = standardized(muMin, quantile);
    const fUpper = standardized(muMax, quantile);
    if (fLower <= 0) return muMin;
    if (fUpper >= 0) return muMax;
    return brentRoot(mu => standardized(mu, quantile), muMin, muMax, { tol: ROOT_TOLERANCE, fLower, fUpper });
  };

  const z = normalQuantile((1 - confidenceLevel) / 2);
  return {
    lower: root(-z),
    upper: root(z),
    // The Hodges-Lehmann estimate: where the statistic crosses zero.
    estimate: brentRoot(mu => standardized(mu, 0), muMin, muMax, { tol: ROOT_TOLERANCE }),
  };
}
