import { SeededRandom } from '../simulation/random';
import { RandomForestClassifier } from 'ml-random-forest';
import { growWithHistogramSplits } from './histogramSplits';

const forestOptions = { nEstimators: 5, maxFeatures: 1, replacement: false, useSampleBagging: true, noOOB: true, seed: 3, treeOptions: { maxDepth: 4, minNumSamples: 5 } } as any;

/** Binned rows (whole numbers 0..9) whose label depends on two of three features, with noise. */
function binnedSet(n: number) {
  const random = new SeededRandom(7);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [0, 1, 2].map(() => Math.floor(10 * random.uniform()));
    rows.push(row);
    labels.push(row[0] + row[2] > 11 !== random.uniform() < 0.05 ? 1 : 0);
  }
  return { rows, labels };
}

describe('growWithHistogramSplits', () => {
  it('splits every node where the Gini gain is greatest over all features and thresholds (brute force)', () => {
    const { rows, labels } = binnedSet(400);
    const options = { ...forestOptions, nEstimators: 1, maxFeatures: 1.0, useSampleBagging: false, treeOptions: { maxDepth: 5, minNumSamples: 5 } };
    const forest = new RandomForestClassifier(options);
    growWithHistogramSplits(() => forest.train(rows, labels));
    const { estimators, indexes } = forest as any;
    const gini = (ys: number[]) => {
      const p = ys.filter(y => y === 1).length / ys.length;
      return 1 - p * p - (1 - p) * (1 - p);
    };
    const gainOf = (at: number[], feature: number, threshold: number) => {
      const ys = at.map(i => labels[i]);
      const lesser = at.filter(i => rows[i][feature] < threshold).map(i => labels[i]);
      const greater = at.filter(i => rows[i][feature] >= threshold).map(i => labels[i]);
      if (!lesser.length || !greater.length) return -Infinity;
      return gini(ys) - (gini(lesser) * lesser.length + gini(greater) * greater.length) / ys.length;
    };
    let checked = 0;
    const visit = (node: any, at: number[]) => {
      if (!node.left) return;
      const feature = indexes[0][node.splitColumn];
      let best = -Infinity;
      for (let f = 0; f < 3; f++) for (let t = 0.5; t < 10; t++) best = Math.max(best, gainOf(at, f, t));
      expect(gainOf(at, feature, node.splitValue)).toBeCloseTo(best, 12);
      expect(node.gain).toBeCloseTo(best, 12);
      checked++;
      visit(node.left, at.filter(i => rows[i][feature] < node.splitValue));
      visit(node.right, at.filter(i => rows[i][feature] >= node.splitValue));
    };
    visit(estimators[0].root, rows.map((_, i) => i));
    expect(checked).toBeGreaterThan(5);

    // ml-cart's own search, for comparison: never a better root split, and ml-cart is back in place.
    const plain = new RandomForestClassifier(options);
    plain.train(rows, labels);
    expect((plain as any).estimators[0].root.gain).toBeLessThanOrEqual(estimators[0].root.gain + 1e-12);
    expect(Object.getPrototypeOf((plain as any).estimators[0].root).train).not.toBe(undefined);
  });

  it('refuses features that are not binned, and still restores ml-cart', () => {
    const prototype = Object.getPrototypeOf((() => {
      const f = new RandomForestClassifier(forestOptions);
      f.train(binnedSet(50).rows, binnedSet(50).labels);
      return (f as any).estimators[0].root;
    })());
    const before = prototype.train;
    const forest = new RandomForestClassifier(forestOptions);
    expect(() => growWithHistogramSplits(() => forest.train([[0.5], [1.5], [2.5], [3.5], [0.5], [1.5]], [0, 1, 0, 1, 0, 1]))).toThrow(
      'needs binned features',
    );
    expect(prototype.train).toBe(before);
  });
});
