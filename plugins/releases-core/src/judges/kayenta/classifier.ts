import { SeededRandom } from '../../simulation/random';
import { mannWhitneyInterval } from './mannWhitney';

/** Kayenta's metric classifications. */
export type KayentaClassification = 'Pass' | 'High' | 'Low' | 'Nodata' | 'NodataFailMetric' | 'Error';

/** Which change of a metric is a failure. */
export type KayentaDirection = 'increase' | 'decrease' | 'either';

/** What to do with NaN values: drop them (Kayenta's default) or count them as 0. */
export type KayentaNanStrategy = 'remove' | 'replace';

/** The effect size that must also be large enough: mean ratio (canary/baseline) or CLES. */
export type KayentaEffectSizeMeasure = 'meanRatio' | 'cles';

/** Settings of one metric, as in a Kayenta canary config. */
export interface KayentaMetricSettings {
  direction: KayentaDirection;
  nanStrategy: KayentaNanStrategy;
  critical: boolean;
  /** Missing data fails the metric (not the run) when it is not critical. */
  dataRequired: boolean;
  /** The bounds around 0 are +- tolerance * |Hodges-Lehmann estimate|. */
  tolerance: number;
  confidenceLevel: number;
  effectSizeMeasure: KayentaEffectSizeMeasure;
  /** [allowed decrease, allowed increase] of the effect size. */
  effectSizeThresholds: [number, number];
  /** [decrease, increase] of the mean ratio beyond which a critical metric fails the whole run. */
  criticalThresholds: [number, number];
  /** Kayenta's outlier removal: drop values beyond the quartiles +- factor x the interquartile range. */
  outliers: { strategy: 'keep' | 'remove'; factor: number };
}

/** Kayenta's defaults for a metric. */
export const DEFAULT_KAYENTA_METRIC: KayentaMetricSettings = {
  direction: 'either',
  nanStrategy: 'remove',
  critical: false,
  dataRequired: false,
  tolerance: 0.25,
  confidenceLevel: 0.95,
  effectSizeMeasure: 'meanRatio',
  effectSizeThresholds: [1, 1],
  criticalThresholds: [1, 1],
  outliers: { strategy: 'keep', factor: 3 },
};

/** A metric's classification with its evidence. */
export interface KayentaMetricResult {
  classification: KayentaClassification;
  /** A failing critical metric fails the whole canary run. */
  critical: boolean;
  /** The effect size (mean ratio or CLES); NaN when a mean is 0. */
  deviation: number;
  reason?: string;
  interval?: { lower: number; upper: number; estimate: number };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Canary mean over baseline mean; NaN when either mean is 0 (as Kayenta's EffectSizes.meanRatio). */
export function meanRatio(control: number[], experiment: number[]): number {
  const c = mean(control);
  const e = mean(experiment);
  return c === 0 || e === 0 ? NaN : e / c;
}

/** Common-language effect size (Vargha-Delaney A): P(canary > baseline) + P(tie) / 2. */
export function cles(control: number[], experiment: number[]): number {
  let wins = 0;
  for (const e of experiment) {
    for (const c of control) {
      if (e > c) wins += 1;
      else if (e === c) wins += 0.5;
    }
  }
  return wins / (experiment.length * control.length);
}

/** A percentile as Apache Commons Math's default estimator computes it (position p(n+1)/100). */
export function commonsPercentile(sorted: number[], p: number): number {
  const n = sorted.length;
  const position = (p * (n + 1)) / 100;
  if (position < 1) return sorted[0];
  if (position >= n) return sorted[n - 1];
  const lower = sorted[Math.floor(position) - 1];
  const upper = sorted[Math.floor(position)];
  return lower + (position - Math.floor(position)) * (upper - lower);
}

/** Kayenta's IQRDetector: values below Q1 - factor x IQR or above Q3 + factor x IQR are removed. */
export function removeOutliers(values: number[], factor: number): number[] {
  if (values.length === 0) return values;
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = commonsPercentile(sorted, 25);
  const q3 = commonsPercentile(sorted, 75);
  const iqr = q3 - q1;
  return values.filter(v => v >= q1 - factor * iqr && v <= q3 + factor * iqr);
}

function sameMultiset(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.every((v, i) => v === y[i]);
}

/**
 * Kayenta's degenerate case: when both samples are constant the rank test cannot tell them apart, so
 * tiny Gaussian noise (sigma = value * 1e-5) is added to each. Seeded, so a verdict is repeatable.
 */
function withNoise(values: number[], random: SeededRandom): number[] {
  const sigma = values[0] * 1e-5;
  return values.map(v => v + sigma * random.normal());
}

/**
 * The Mann-Whitney classifier of Kayenta's NetflixACAJudge: a metric is High (or Low) when the
 * confidence interval of the canary-minus-baseline shift lies beyond +- tolerance * |estimate| and
 * the effect size reaches its threshold; a critical metric beyond its critical threshold fails the run.
 */
export function classifyMetric(
  controlValues: number[],
  experimentValues: number[],
  settings: Partial<KayentaMetricSettings> = {},
  seed = 1,
): KayentaMetricResult {
  const s = { ...DEFAULT_KAYENTA_METRIC, ...settings };
  const clean = (values: number[]) =>
    s.nanStrategy === 'replace'
      ? values.map(v => (Number.isNaN(v) ? 0 : v))
      : values.filter(v => !Number.isNaN(v));
  const prepare = (values: number[]) =>
    s.outliers.strategy === 'remove' ? removeOutliers(clean(values), s.outliers.factor) : clean(values);
  const control = prepare(controlValues);
  const experiment = prepare(experimentValues);

  if (control.length === 0 || experiment.length === 0) {
    if (s.nanStrategy === 'replace') {
      return { classification: 'Pass', critical: false, deviation: 1 };
    }
    const reason = `Missing data for the ${experiment.length === 0 ? 'canary' : 'baseline'}`;
    if (s.dataRequired && !s.critical) {
      return { classification: 'NodataFailMetric', critical: false, deviation: 1, reason };
    }
    return { classification: 'Nodata', critical: s.critical, deviation: 1, reason };
  }
  if (sameMultiset(control, experiment)) {
    return { classification: 'Pass', critical: false, deviation: 1, reason: 'The canary and baseline data are identical' };
  }
  if (new Set([...control, ...experiment]).size === 1) {
    return { classification: 'Pass', critical: false, deviation: 1 };
  }

  const degenerate = new Set(control).size === 1 && new Set(experiment).size === 1;
  const random = new SeededRandom(seed);
  const testedControl = degenerate ? withNoise(control, random) : control;
  const testedExperiment = degenerate ? withNoise(experiment, random) : experiment;
  let interval;
  try {
    interval = mannWhitneyInterval(testedControl, testedExperiment, s.confidenceLevel);
  } catch (error) {
    // Kayenta reports the metric as Error (for example when every shifted observation ties).
    return { classification: 'Error', critical: false, deviation: NaN, reason: (error as Error).message };
  }
  const bound = s.tolerance * Math.abs(interval.estimate);
  const ratio = meanRatio(testedControl, testedExperiment);
  const effect = s.effectSizeMeasure === 'cles' ? cles(testedControl, testedExperiment) : ratio;
  // A mean of 0 leaves the ratio undefined; then the rank test alone decides.
  const reaches = (limit: number, above: boolean) =>
    Number.isNaN(effect) || (above ? effect >= limit : effect <= limit);

  const high =
    s.direction !== 'decrease' && interval.lower > bound && reaches(s.effectSizeThresholds[1], true);
  const low =
    s.direction !== 'increase' && interval.upper < -bound && reaches(s.effectSizeThresholds[0], false);
  let classification: KayentaClassification = 'Pass';
  if (high) classification = 'High';
  else if (low) classification = 'Low';
  const beyondCritical =
    classification === 'High'
      ? Number.isNaN(ratio) || ratio >= s.criticalThresholds[1]
      : classification === 'Low' && (Number.isNaN(ratio) || ratio <= s.criticalThresholds[0]);
  const critical = s.critical && beyondCritical;
  return {
    classification,
    critical,
    deviation: effect,
    interval,
    reason:
      classification === 'Pass'
        ? undefined
        : `The metric was classified as ${classification}${critical ? ' (Critical)' : ''}`,
  };
}

/** Kayenta's benchmark classifier: compares the means only. */
export function classifyByMeans(control: number[], experiment: number[]): KayentaMetricResult {
  const c = mean(control);
  const e = mean(experiment);
  let classification: KayentaClassification = 'Pass';
  if (e > c) classification = 'High';
  else if (e < c) classification = 'Low';
  return { classification, critical: false, deviation: meanRatio(control, experiment) };
}
