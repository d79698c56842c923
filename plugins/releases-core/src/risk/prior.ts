import { FeatureContribution } from './RiskModel';
import { FeatureValues } from './features';

/**
 * The transparent prior used until enough history exists to train the forest: a logistic score
 * whose every term is written here, so an owner can check each number of an explanation by hand.
 * Log-odds start at the service's smoothed rollback rate (its rollbacks plus one in ten, over its
 * releases plus ten), and move by:
 */
export const PRIOR_WEIGHTS = {
  /** per doubling of the lines changed above 200 */
  linesChangedDoubling: 0.35,
  /** per doubling of the files changed above 10 */
  filesChangedDoubling: 0.2,
  /** for a breaking change */
  breaking: 0.9,
  /** per major dependency upgrade (at most 3 count) */
  majorDependency: 0.4,
  /** per 10 points of test coverage below 70 % (above 70 %: the same, downwards, at most 3) */
  coverageTenPoints: 0.15,
  /** when the author never released this service */
  newToService: 0.4,
  /** when traffic is more than 1.5x the usual for this time of day */
  busy: 0.5,
};

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The prior's probability and the terms that moved it, each as a probability difference. */
export function priorAssessment(values: FeatureValues): { probability: number; contributions: FeatureContribution[] } {
  const releases = values.serviceReleases ?? 0;
  const rollbacks = Number.isFinite(values.serviceFailureRate) ? values.serviceFailureRate * releases : 0;
  const base = (rollbacks + 1) / (releases + 10);
  const terms: Array<{ feature: string; value: number; usual: number; logOdds: number }> = [];
  terms.push({ feature: 'serviceFailureRate', value: releases ? rollbacks / releases : NaN, usual: 0.1, logOdds: logit(base) - logit(0.1) });
  const lines = values.linesChanged;
  if (Number.isFinite(lines) && lines > 200) terms.push({ feature: 'linesChanged', value: lines, usual: 200, logOdds: PRIOR_WEIGHTS.linesChangedDoubling * Math.log2(lines / 200) });
  if (Number.isFinite(values.filesChanged) && values.filesChanged > 10) {
    terms.push({ feature: 'filesChanged', value: values.filesChanged, usual: 10, logOdds: PRIOR_WEIGHTS.filesChangedDoubling * Math.log2(values.filesChanged / 10) });
  }
  if (values.breaking === 1) terms.push({ feature: 'breaking', value: 1, usual: 0, logOdds: PRIOR_WEIGHTS.breaking });
  if (values.majorDependencyChanges > 0) {
    terms.push({ feature: 'majorDependencyChanges', value: values.majorDependencyChanges, usual: 0, logOdds: PRIOR_WEIGHTS.majorDependency * Math.min(3, values.majorDependencyChanges) });
  }
  if (Number.isFinite(values.coverage)) {
    const steps = Math.max(-3, Math.min(3, (0.7 - values.coverage) * 10));
    if (steps !== 0) terms.push({ feature: 'coverage', value: values.coverage, usual: 0.7, logOdds: PRIOR_WEIGHTS.coverageTenPoints * steps });
  }
  if (values.authorServiceReleases === 0) terms.push({ feature: 'authorServiceReleases', value: 0, usual: 1, logOdds: PRIOR_WEIGHTS.newToService });
  if (values.trafficRatio > 1.5) terms.push({ feature: 'trafficRatio', value: values.trafficRatio, usual: 1, logOdds: PRIOR_WEIGHTS.busy });

  const total = logit(0.1) + terms.reduce((sum, t) => sum + t.logOdds, 0);
  const probability = sigmoid(total);
  const contributions = terms
    .filter(t => t.logOdds !== 0)
    .map(t => ({ feature: t.feature, value: t.value, usual: t.usual, effect: probability - sigmoid(total - t.logOdds) }))
    .sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
  return { probability, contributions };
}
