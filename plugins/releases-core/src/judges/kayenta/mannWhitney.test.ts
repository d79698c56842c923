import { readSharedJson } from '../../testUtils/sharedData';
import { mannWhitneyInterval } from './mannWhitney';

// Kayenta's own Mann-Whitney confidence-interval vectors, tied out by Kayenta against R.
const vectors = readSharedJson<{ cases: unknown[] }>('data/kayenta/mannwhitney_ci_vectors.json').cases as Array<{
  test: string;
  x_experiment: number[];
  y_control: number[];
  confidence_level: number;
  expected: { ci_low: number; ci_high: number; estimate: number; head_tol: number; last_tol: number; estimate_tol: number };
}>;

describe('mannWhitneyInterval', () => {
  it.each(vectors.map(v => [v.test, v] as const))('%s', (_name, v) => {
    const result = mannWhitneyInterval(v.y_control, v.x_experiment, v.confidence_level);
    expect(Math.abs(result.lower - v.expected.ci_low)).toBeLessThanOrEqual(v.expected.head_tol);
    expect(Math.abs(result.upper - v.expected.ci_high)).toBeLessThanOrEqual(v.expected.last_tol);
    expect(Math.abs(result.estimate - v.expected.estimate)).toBeLessThanOrEqual(v.expected.estimate_tol);
  });
});
