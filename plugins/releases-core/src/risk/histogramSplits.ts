import { RandomForestClassifier } from 'ml-random-forest';

/**
 * Histogram split search for ml-random-forest's trees (ml-cart), in Release Pilot's own code.
 *
 * ml-cart's own search re-splits a whole column at every change of label along the sorted feature:
 * quadratic in the rows of a node, minutes for a forest on 10,000 releases. Our features are
 * already quantile-binned to small whole numbers (`binFeatures`), so a node's best split is found
 * from one counting pass per feature: rows per (bin, class), then the Gini gain at every boundary
 * between occupied bins, as LightGBM and XGBoost's `hist` do. Rows are passed down as indices into
 * columns copied once, instead of a new matrix per node.
 *
 * `growWithHistogramSplits` swaps this in for ml-cart's `TreeNode.train` only while the given
 * (synchronous) training runs, and puts the original back afterwards, so nothing else in the
 * process that uses ml-cart is affected. The split values are those ml-cart would choose among
 * (midpoints between neighbouring values), and a node splits under the same conditions.
 */

interface CartMatrix {
  columns: number;
  getColumn(j: number): number[];
}

interface CartNode {
  minNumSamples: number;
  maxDepth: number;
  gainThreshold: number;
  splitValue?: number;
  splitColumn?: number;
  gain?: number;
  numberSamples?: number;
  left?: CartNode;
  right?: CartNode;
  calculatePrediction(y: number[]): void;
}

interface CartNodePrototype extends CartNode {
  constructor: new (parent: CartNode) => CartNode;
  train(X: CartMatrix, y: number[], depth: number, parentGain?: number): void;
}

let cartNodePrototype: CartNodePrototype | undefined;

/** ml-cart's TreeNode prototype, taken from a one-tree forest so it is the instance ml-random-forest uses. */
function treeNodePrototype(): CartNodePrototype {
  if (!cartNodePrototype) {
    const probe = new RandomForestClassifier({ nEstimators: 1, maxFeatures: 1, noOOB: true, seed: 1 } as any);
    probe.train([[0], [1], [0], [1]], [0, 1, 0, 1]);
    const root = (probe as unknown as { estimators: Array<{ root: CartNode }> }).estimators[0].root;
    const prototype = Object.getPrototypeOf(root) as CartNodePrototype;
    if (typeof prototype.train !== 'function' || typeof prototype.calculatePrediction !== 'function') {
      throw new Error('ml-cart has changed: its TreeNode has no train or calculatePrediction method');
    }
    cartNodePrototype = prototype;
  }
  return cartNodePrototype;
}

interface Best {
  gain: number;
  column?: number;
  value?: number;
}

/** The best Gini split of the node's rows: one counting pass per (binned) feature. */
function bestSplit(columns: Int32Array[], y: number[], indices: number[]): Best {
  const n = indices.length;
  let classes = 0;
  for (const label of y) classes = Math.max(classes, label + 1);
  const total = new Array<number>(classes).fill(0);
  for (const label of y) total[label]++;
  let s = 0;
  for (let c = 0; c < classes; c++) s += (total[c] / n) * (total[c] / n);
  const parentImpurity = 1 - s;
  const left = new Array<number>(classes).fill(0);
  const gainAt = (k: number) => {
    let sl = 0;
    let sr = 0;
    for (let c = 0; c < classes; c++) {
      const l = left[c] / k;
      const r = (total[c] - left[c]) / (n - k);
      sl += l * l;
      sr += r * r;
    }
    return parentImpurity - ((1 - sl) * k + (1 - sr) * (n - k)) / n;
  };
  const best: Best = { gain: -Infinity };
  for (let f = 0; f < columns.length; f++) {
    const x = columns[f];
    let top = 0;
    for (const i of indices) if (x[i] > top) top = x[i];
    const counts = new Float64Array((top + 1) * classes);
    for (let k = 0; k < n; k++) counts[x[indices[k]] * classes + y[k]]++;
    left.fill(0);
    let below = 0;
    let previous = -1;
    for (let v = 0; v <= top; v++) {
      let here = 0;
      for (let c = 0; c < classes; c++) here += counts[v * classes + c];
      if (here === 0) continue;
      if (below > 0) {
        const gain = gainAt(below);
        if (gain > best.gain) {
          best.gain = gain;
          best.column = f;
          best.value = (previous + v) / 2;
        }
      }
      for (let c = 0; c < classes; c++) left[c] += counts[v * classes + c];
      below += here;
      previous = v;
    }
  }
  return best;
}

function grow(node: CartNode, columns: Int32Array[], allY: number[], indices: number[], depth: number, parentGain = 0) {
  const y = indices.map(i => allY[i]);
  if (indices.length <= node.minNumSamples) {
    node.calculatePrediction(y);
    return;
  }
  const best = bestSplit(columns, y, indices);
  node.splitValue = best.value;
  node.splitColumn = best.column;
  node.gain = best.gain;
  node.numberSamples = indices.length;
  const lesser: number[] = [];
  const greater: number[] = [];
  if (best.column !== undefined) {
    const column = columns[best.column];
    for (const i of indices) (column[i] < best.value! ? lesser : greater).push(i);
  }
  if (depth < node.maxDepth && best.gain > node.gainThreshold && best.gain !== parentGain && lesser.length && greater.length) {
    const TreeNode = treeNodePrototype().constructor;
    node.left = new TreeNode(node);
    node.right = new TreeNode(node);
    grow(node.left, columns, allY, lesser, depth + 1, best.gain);
    grow(node.right, columns, allY, greater, depth + 1, best.gain);
  } else {
    node.calculatePrediction(y);
  }
}

/**
 * Runs `train` (ml-random-forest training on features binned to whole numbers 0..1023) with the
 * histogram split search in place of ml-cart's, and restores ml-cart afterwards.
 */
export function growWithHistogramSplits<T>(train: () => T): T {
  const prototype = treeNodePrototype();
  const original = prototype.train;
  prototype.train = function histogramTrain(this: CartNode, X: CartMatrix, y: number[], depth: number, parentGain?: number) {
    const columns: Int32Array[] = [];
    for (let j = 0; j < X.columns; j++) {
      const raw = X.getColumn(j);
      const column = Int32Array.from(raw);
      if (column.some((v, i) => v < 0 || v > 1023 || v !== raw[i])) {
        throw new Error('growWithHistogramSplits needs binned features: whole numbers from 0 to 1023');
      }
      columns.push(column);
    }
    grow(this, columns, y, y.map((_, i) => i), depth, parentGain);
  };
  try {
    return train();
  } finally {
    prototype.train = original;
  }
}
