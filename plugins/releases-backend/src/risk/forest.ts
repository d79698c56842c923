import { RandomForestClassifier } from 'ml-random-forest';

/** How the forest is grown. */
export interface ForestOptions {
  trees: number;
  maxDepth: number;
  /** A node with this many rows or fewer is a leaf. */
  minLeafRows: number;
  /** Share of the features each tree sees (ml-random-forest bags features per tree). */
  maxFeatures: number;
  seed: number;
}

export const DEFAULT_FOREST_OPTIONS: ForestOptions = {
  trees: 60,
  maxDepth: 8,
  minLeafRows: 60,
  maxFeatures: 0.7,
  seed: 42,
};

/**
 * The model learns from the newest this many releases only: change-level data drifts, and on the
 * time-ordered split older history made predictions worse (postgres: AUC 0.775 on all 16,344
 * training rows, 0.834 on the newest 5,000; jdt 0.680 on 28,308, 0.690 on 5,000).
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

function flatten(root: CartNode, featureIndex: number[]): FlatTree {
  const tree: FlatTree = { column: [], value: [], left: [], right: [], p: [] };
  const visit = (node: CartNode): number => {
    const i = tree.column.length;
    tree.column.push(-1);
    tree.value.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.p.push(0);
    if (node.left && node.right) {
      tree.column[i] = featureIndex[node.splitColumn];
      tree.value[i] = node.splitValue;
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

/**
 * Grows a random forest with ml-random-forest (and its ml-cart trees, patched for standard CART
 * split search) and flattens it. Labels are 0 (succeeded) and 1 (rolled back or failed); rows must
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
    treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minLeafRows },
  } as any);
  forest.train(rows, labels);
  const internals = forest as unknown as { estimators: Array<{ root: CartNode }>; indexes: number[][] };
  return { trees: internals.estimators.map((e, i) => flatten(e.root, internals.indexes[i])) };
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
