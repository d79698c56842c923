/** Area under the ROC curve of `scores` for binary `labels` (ties count half): the Mann-Whitney U / (n1 n0). */
export function rocAuc(scores: number[], labels: number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositives = 0;
  let positives = 0;
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[k]]) end++;
    const averageRank = (k + end) / 2 + 1;
    for (let j = k; j <= end; j++) {
      if (labels[order[j]] === 1) {
        rankSumPositives += averageRank;
        positives++;
      }
    }
    k = end + 1;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Area under the precision-recall curve, as average precision (ties handled as one threshold). */
export function prAuc(scores: number[], labels: number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = labels.filter(l => l === 1).length;
  if (positives === 0) return NaN;
  let truePositives = 0;
  let seen = 0;
  let area = 0;
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[k]]) end++;
    let newPositives = 0;
    for (let j = k; j <= end; j++) newPositives += labels[order[j]];
    seen += end - k + 1;
    truePositives += newPositives;
    area += (newPositives / positives) * (truePositives / seen);
    k = end + 1;
  }
  return area;
}

/** Mean squared error of probabilities against outcomes. */
export function brierScore(probabilities: number[], labels: number[]): number {
  return probabilities.reduce((sum, p, i) => sum + (p - labels[i]) ** 2, 0) / probabilities.length;
}
