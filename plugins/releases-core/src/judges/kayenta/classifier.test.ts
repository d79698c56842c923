import { readSharedJson } from '../../testUtils/sharedData';
import {
  classifyByMeans,
  classifyMetric,
  cles,
  commonsPercentile,
  KayentaMetricSettings,
  meanRatio,
  removeOutliers,
} from './classifier';

// The 37 cases of Kayenta's ClassifierSuite.scala (../shared/data/kayenta).
type Vector = {
  test: string;
  classifier: 'MannWhitneyClassifier' | 'MeanInequalityClassifier';
  params: {
    tolerance?: number;
    confLevel?: number;
    effectSizeThresholds?: [number, number];
    criticalThresholds?: [number, number];
    effectSizeMeasure?: 'cles' | 'meanRatio';
  };
  direction: 'Either' | 'Increase' | 'Decrease';
  nan_strategy: 'Remove' | 'Replace' | null;
  is_critical_metric: boolean;
  control: number[];
  experiment: number[];
  expected_classification: string | null;
  expected_critical: boolean | null;
  expected_deviation: string | null;
  reason_nonempty_only: boolean;
};

const vectors = readSharedJson<{ cases: unknown[] }>('data/kayenta/classifier_suite_vectors.json').cases as Vector[];

function settingsOf(v: Vector): Partial<KayentaMetricSettings> {
  return {
    direction: v.direction.toLowerCase() as KayentaMetricSettings['direction'],
    nanStrategy: v.nan_strategy === 'Replace' ? 'replace' : 'remove',
    critical: v.is_critical_metric,
    ...(v.params.tolerance !== undefined && { tolerance: v.params.tolerance }),
    ...(v.params.confLevel !== undefined && { confidenceLevel: v.params.confLevel }),
    ...(v.params.effectSizeThresholds && { effectSizeThresholds: v.params.effectSizeThresholds }),
    ...(v.params.criticalThresholds && { criticalThresholds: v.params.criticalThresholds }),
    ...(v.params.effectSizeMeasure && { effectSizeMeasure: v.params.effectSizeMeasure }),
  };
}

describe('Kayenta classifier suite vectors', () => {
  it('has all 37 cases', () => {
    expect(vectors).toHaveLength(37);
  });

  const classify = (v: Vector) =>
    v.classifier === 'MeanInequalityClassifier'
      ? classifyByMeans(v.control, v.experiment)
      : classifyMetric(v.control, v.experiment, settingsOf(v));

  const checked = vectors.filter(v => !v.reason_nonempty_only);
  it.each(checked.map(v => [v.test, v] as const))('%s', (_name, v) => {
    const result = classify(v);
    // Compare only what the Scala suite asserts for the case.
    const deviation = Number.isNaN(result.deviation) ? 'isNaN' : result.deviation.toFixed(1);
    const actual = {
      classification: result.classification,
      critical: v.expected_critical === null ? null : result.critical,
      deviation: v.expected_deviation === null ? null : deviation,
    };
    expect(actual).toEqual({
      classification: v.expected_classification,
      critical: v.expected_critical,
      deviation: v.expected_deviation,
    });
  });

  it.each(vectors.filter(v => v.reason_nonempty_only).map(v => [v.test, v] as const))('%s', (_name, v) => {
    expect(classify(v).reason).toMatch(/\S/);
  });
});

describe('effect sizes', () => {
  it('mean ratio is NaN when a mean is zero', () => {
    expect(meanRatio([1, 3], [4, 4])).toBe(2);
    expect(meanRatio([0, 0], [4, 4])).toBeNaN();
  });

  it('CLES counts ties as halves', () => {
    expect(cles([1, 2, 3], [1, 2, 3])).toBe(0.5);
    expect(cles([1, 2], [3, 4])).toBe(1);
    expect(cles([3, 4], [1, 2])).toBe(0);
  });
});

describe('degenerate series', () => {
  it('classifies an interval that cannot be computed as Error instead of throwing', () => {
    const result = classifyMetric([0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.4], {});
    expect(['Error', 'High']).toContain(result.classification);
    expect(() => classifyMetric([0, 0, 0], [1, 1, 1])).not.toThrow();
  });
});

describe('outlier removal (Kayenta IQRDetector)', () => {
  it('computes percentiles as Apache Commons Math does', () => {
    const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(commonsPercentile(oneToTen, 25)).toBeCloseTo(2.75, 12);
    expect(commonsPercentile(oneToTen, 75)).toBeCloseTo(8.25, 12);
    expect(commonsPercentile(oneToTen, 1)).toBe(1);
    expect(commonsPercentile(oneToTen, 99)).toBe(10);
  });

  it('drops values beyond the quartiles +- factor x IQR', () => {
    expect(removeOutliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100], 1.5)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(removeOutliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100], 100)).toHaveLength(11);
  });

  it('keeps one wild canary value from deciding the effect size when asked to remove outliers', () => {
    const control = [10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 12];
    const experiment = [13, 14, 13, 15, 14, 13, 14, 15, 13, 14, 13, 500];
    const settings: Partial<KayentaMetricSettings> = { direction: 'increase', effectSizeThresholds: [1, 1.5] };
    const kept = classifyMetric(control, experiment, settings);
    expect(kept.classification).toBe('High');
    expect(kept.deviation).toBeGreaterThan(4);
    const removed = classifyMetric(control, experiment, { ...settings, outliers: { strategy: 'remove', factor: 3 } });
    expect(removed.classification).toBe('Pass');
    expect(removed.deviation).toBeCloseTo(151 / 11 / (130 / 12), 6);
  });
});
