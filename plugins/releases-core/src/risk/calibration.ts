/**
 * Platt scaling: P(failed | score) = 1 / (1 + exp(-(a * logit(score) + b))), fitted by Newton's
 * method on held-out scores and outcomes (with Platt's smoothed targets, so a small or separable
 * held-out set cannot push the probabilities to 0 or 1).
 */
export interface PlattCalibration {
  a: number;
  b: number;
}

const logit = (p: number) => {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
};

export function fitPlatt(scores: number[], labels: number[]): PlattCalibration {
  const positives = labels.filter(l => l === 1).length;
  const negatives = labels.length - positives;
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  const x = scores.map(logit);
  const t = labels.map(l => (l === 1 ? high : low));
  let a = 1;
  let b = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < x.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * x[i] + b)));
      const d = p - t[i];
      const w = p * (1 - p);
      ga += d * x[i];
      gb += d;
      haa += w * x[i] * x[i];
      hab += w * x[i];
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

export function calibrate(calibration: PlattCalibration, score: number): number {
  return 1 / (1 + Math.exp(-(calibration.a * logit(score) + calibration.b)));
}
