import { readSharedJson } from '../../__testUtils__/sharedData';
import { classifyByMeans, classifyMetric, cles, KayentaMetricSettings, meanRatio } from './classifier';

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
