import { KayentaMetricResult } from './classifier';

/** One classified metric of a canary run and the groups it counts in. */
export interface ScoredMetric {
  name: string;
  groups: string[];
  result: KayentaMetricResult;
}

/** Score thresholds of a canary config. */
export interface ScoreThresholds {
  /** At or above: the run passes. */
  pass: number;
  /** At or above (and below pass): marginal. Below: fail. */
  marginal: number;
}

/** The outcome of a canary run. */
export interface CanaryScore {
  score: number;
  outcome: 'Pass' | 'Marginal' | 'Fail';
  groups: Array<{ name: string; score: number; noData: boolean; weight: number }>;
  /** Why the score was forced to 0, if it was. */
  forcedToZero?: string;
}

/**
 * Kayenta's weighted-sum scorer: each group scores Pass / (Pass + High + Low + NodataFailMetric) * 100;
 * groups are weighted by `groupWeights` (percent), groups without a weight share what is left equally,
 * groups without data count nothing. A failing critical metric, or Nodata for half of the metrics or
 * more, forces the score to 0.
 */
export function scoreCanaryRun(
  metrics: ScoredMetric[],
  groupWeights: Record<string, number>,
  thresholds: ScoreThresholds,
): CanaryScore {
  const labelsByGroup = new Map<string, string[]>();
  for (const metric of metrics) {
    for (const group of metric.groups) {
      labelsByGroup.set(group, [...(labelsByGroup.get(group) ?? []), metric.result.classification]);
    }
  }
  const unweighted = [...labelsByGroup.keys()].filter(g => groupWeights[g] === undefined);
  const assigned = Object.values(groupWeights).reduce((a, b) => a + b, 0);
  const shared = unweighted.length > 0 ? (100 - assigned) / unweighted.length : 0;

  const groups = [...labelsByGroup.entries()].map(([name, labels]) => {
    const count = (label: string) => labels.filter(l => l === label).length;
    const counted = count('Pass') + count('High') + count('Low') + count('NodataFailMetric');
    return {
      name,
      score: counted > 0 ? (count('Pass') / counted) * 100 : 0,
      noData: counted === 0,
      weight: groupWeights[name] ?? shared,
    };
  });
  let score = groups.filter(g => !g.noData).reduce((sum, g) => sum + (g.score * g.weight) / 100, 0);

  let forcedToZero: string | undefined;
  const criticalFailure = metrics.find(m => m.result.critical && m.result.classification !== 'Pass');
  const nodata = metrics.filter(m => m.result.classification === 'Nodata').length;
  if (criticalFailure) {
    forcedToZero = `critical metric ${criticalFailure.name} was ${criticalFailure.result.classification}`;
  } else if (metrics.length > 0 && nodata / metrics.length >= 0.5) {
    forcedToZero = `${nodata} of ${metrics.length} metrics had no data`;
  }
  if (forcedToZero) score = 0;

  let outcome: CanaryScore['outcome'] = 'Fail';
  if (score >= thresholds.pass) outcome = 'Pass';
  else if (score >= thresholds.marginal) outcome = 'Marginal';
  return { score, outcome, groups, forcedToZero };
}
