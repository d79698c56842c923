import { RandomForestClassifier } from 'ml-random-forest';
import { growWithHistogramSplits } from './histogramSplits';

/** How the forest is grown. */
export interface ForestOptions {
  trees: number;
  maxDepth: number;
  /** A node with this many rows or fewer is a leaf. */
  minLeafRows: number;
  /** Share of the features each tree sees (ml-random-forest bags features per tree). */
  maxFeatures: number;
  /**
   * Least Gini gain a split must bring. ml-cart's default, 0.01, is absolute: with rare failures
   * (a 10 % failure rate has a Gini impurity of 0.18) it stops every tree at its root.
   */
  minGain: number;
  seed: number;
}

export const DEFAULT_FOREST_OPTIONS: ForestOptions = {
  trees: 60,
  maxDepth: 8,
  minLeafRows: 60,
  maxFeatures: 0.7,
  minGain: 0.0001,
  seed: 42,
};

/**
 * The model learns from the newest this many releases only, which bounds its training time (about
 * 2.6 s on 5,000). Which window predicts best differs by project: tuned on a validation split inside
 * the training period (`release-pilot risk evaluate --tune`), the four projects of docs/risk.md pick
 * 1,000 to all rows.
 */
export const DEFAULT_TRAIN_WINDOW = 5000;

/**
 * A trained tree, flattened for fast prediction and compact storage: node i splits on feature
 * `column[i]` at `value[i]` (left when below), or is a leaf (`left[i] === -1`) with the share of
 * failed releases `p[i]` among the training rows that reached it.
 */
export interface FlatTree {
  column: number[];
  value: number[];
  left: number[];
  right: number[];
  p: number[];
}

/** The trees of a trained forest: the average of the leaves' shares is the raw risk score. */
export interface FlatForest {
  trees: FlatTree[];
}

interface CartNode {
  left?: CartNode;
  right?: CartNode;
  splitColumn: number;
  splitValue: number;
  distribution: { columns: number; get(row: number, column: number): number };
}

function flatten(root: CartNode, featureIndex: number[], edges: number[][]): FlatTree {
  const tree: FlatTree = { column: [], value: [], left: [], right: [], p: [] };
  const visit = (node: CartNode): number => {
    const i = tree.column.length;
    tree.column.push(-1);
    tree.value.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.p.push(0);
    if (node.left && node.right) {
      const column = featureIndex[node.splitColumn];
      tree.column[i] = column;
      // The tree split bins below `splitValue` (k + 0.5) left: in raw values, below bin k + 1's edge.
      tree.value[i] = edges[column][Math.floor(node.splitValue)];
      tree.left[i] = visit(node.left);
      tree.right[i] = visit(node.right);
    } else {
      tree.p[i] = node.distribution.columns > 1 ? node.distribution.get(0, 1) : 0;
    }
    return i;
  };
  visit(root);
  return tree;
}

/** Bins per feature: the trees search splits among at most this many thresholds per feature. */
const BINS = 32;

/**
 * Quantile bins per feature (histogram-based split search, as LightGBM and XGBoost's `hist` do):
 * each value becomes its bin's index, with `edges[j][k]` the least raw value of bin k + 1, so
 * "bin <= k" is "value < edges[j][k]". A feature with at most BINS distinct values keeps them all.
 */
export function binFeatures(rows: number[][]): { binned: number[][]; edges: number[][] } {
  const columns = rows.length ? rows[0].length : 0;
  const edges: number[][] = [];
  for (let j = 0; j < columns; j++) {
    const sorted = Float64Array.from(rows, r => r[j]).sort();
    const distinct: number[] = [];
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
    let cuts: number[];
    if (distinct.length <= BINS) cuts = distinct.slice(1);
    else {
      cuts = [];
      for (let k = 1; k < BINS; k++) {
        const q = sorted[Math.floor((k * sorted.length) / BINS)];
        if (q > sorted[0] && (cuts.length === 0 || q > cuts[cuts.length - 1])) cuts.push(q);
      }
    }
    edges.push(cuts);
  }
  const binOf = (cuts: number[], x: number) => {
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cuts[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { binned: rows.map(r => r.map((x, j) => binOf(edges[j], x))), edges };
}

/**
 * Grows a random forest with ml-random-forest (its ml-cart trees searching splits by histogram,
 * `histogramSplits.ts`) on quantile-binned features, and flattens it with raw-value thresholds. Labels are 0 (succeeded) and 1 (rolled back or failed); rows must
 * have no missing values (impute first).
 */
export function growForest(rows: number[][], labels: number[], options: ForestOptions = DEFAULT_FOREST_OPTIONS): FlatForest {
  if (!labels.includes(0) || !labels.includes(1)) {
    throw new Error('Training needs both outcomes: at least one succeeded and one failed release');
  }
  const forest = new RandomForestClassifier({
    nEstimators: options.trees,
    maxFeatures: options.maxFeatures,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    seed: options.seed,
    treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minLeafRows, gainThreshold: options.minGain },
  } as any);
  const { binned, edges } = binFeatures(rows);
  growWithHistogramSplits(() => forest.train(binned, labels));
  const internals = forest as unknown as { estimators: Array<{ root: CartNode }>; indexes: number[][] };
  return { trees: internals.estimators.map((e, i) => flatten(e.root, internals.indexes[i], edges)) };
}

/** The forest's raw risk score of one row: the mean over trees of the failed share in its leaf. */
export function forestScore(forest: FlatForest, row: ArrayLike<number>): number {
  let sum = 0;
  for (const tree of forest.trees) {
    let i = 0;
    while (tree.left[i] !== -1) i = row[tree.column[i]] < tree.value[i] ? tree.left[i] : tree.right[i];
    sum += tree.p[i];
  }
  return sum / forest.trees.length;
}
