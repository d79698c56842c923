import { SeededRandom } from '../simulation/random';
import { fitPlatt, calibrate } from './calibration';
import { historyFeatures, metadataFeatures } from './features';
import { brierScore, prAuc, rocAuc } from './metrics';
import { priorAssessment } from './prior';
import { RiskModel } from './RiskModel';

/** Releases whose failure chance rises with size and the author's inexperience; noise features carry nothing. */
function synthetic(n: number, seed: number) {
  const random = new SeededRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const lines = Math.round(Math.exp(2 + 6 * random.uniform()));
    const experience = Math.floor(50 * random.uniform());
    const noise = random.uniform();
    const logit = -3 + 0.8 * Math.log10(lines) * 1.5 - 0.04 * experience + 0.5;
    labels.push(random.uniform() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
    rows.push([lines, experience, noise]);
  }
  return { features: ['linesChanged', 'authorServiceReleases', 'noise'], rows, labels };
}

describe('metrics', () => {
  it('computes ROC AUC with ties, average precision and Brier score', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(prAuc([0.9, 0.8, 0.1], [1, 0, 1])).toBeCloseTo((1 + 2 / 3) / 2);
    expect(brierScore([1, 0, 0.5], [1, 0, 1])).toBeCloseTo(0.25 / 3);
  });
});

describe('RiskModel', () => {
  const train = synthetic(3000, 1);
  const test = synthetic(1000, 2);

  it('learns a real signal, with probabilities that mean what they say', () => {
    const model = RiskModel.train(train);
    const probabilities = test.rows.map(r => model.probability(r));
    expect(rocAuc(probabilities, test.labels)).toBeGreaterThan(0.7);
    // Calibrated: the mean prediction is close to the observed failure rate, in each half of the risk range too.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(probabilities) - mean(test.labels))).toBeLessThan(0.05);
    const high = probabilities.map((p, i) => [p, test.labels[i]]).filter(([p]) => p > 0.5);
    expect(Math.abs(mean(high.map(([p]) => p)) - mean(high.map(([, l]) => l)))).toBeLessThan(0.1);
  });

  it('explains a prediction by what each known feature adds over its usual value, and survives a round trip', () => {
    const model = RiskModel.fromJSON(JSON.parse(JSON.stringify(RiskModel.train(train).toJSON())));
    const { probability, contributions } = model.explain([2500, 0, NaN]);
    expect(probability).toBeCloseTo(model.probability([2500, 0, NaN]), 10);
    expect(contributions.map(c => c.feature)).toEqual(expect.arrayContaining(['linesChanged', 'authorServiceReleases']));
    expect(contributions.find(c => c.feature === 'noise')).toBeUndefined();
    expect(contributions.find(c => c.feature === 'linesChanged')!.effect).toBeGreaterThan(0);
    const safe = model.explain([12, 45, 0.5]);
    expect(safe.probability).toBeLessThan(probability);
  });

  it('evaluates on a time-ordered split and refuses one-outcome history', () => {
    const { validation } = RiskModel.evaluate({ ...train, rows: [...train.rows, ...test.rows], labels: [...train.labels, ...test.labels] }, { trainFraction: 0.75 });
    expect(validation.testRows).toBe(1000);
    expect(validation.trainRows).toBe(3000);
    expect(validation.auc).toBeGreaterThan(0.7);
    expect(() => RiskModel.train({ features: ['a'], rows: [[1], [2]], labels: [0, 0] })).toThrow(/both outcomes/);
  });
});

describe('calibration', () => {
  it('maps scores to observed rates', () => {
    const scores = Array.from({ length: 400 }, (_, i) => (i % 100) / 100);
    const labels = scores.map((s, i) => (i % 10 < s * 5 ? 1 : 0));
    const c = fitPlatt(scores, labels);
    expect(calibrate(c, 0.9)).toBeGreaterThan(calibrate(c, 0.1));
    expect(calibrate(c, 0.1)).toBeLessThan(0.2);
  });
});

describe('features and the prior', () => {
  it('reads metadata leniently and computes the history of the service and author', () => {
    expect(metadataFeatures({ linesAdded: '120', linesDeleted: 30, breaking: true, coverage: 85, junk: 'x', filesChanged: 'many' })).toEqual({
      linesAdded: 120,
      linesDeleted: 30,
      linesChanged: 150,
      breaking: 1,
      coverage: 0.85,
    });
    const at = new Date('2026-11-27T10:00:00Z');
    const h = historyFeatures('component:default/a', 'user:default/bo', at, [
      { entityRef: 'component:default/a', createdBy: 'user:default/bo', createdAt: '2026-11-27T06:00:00Z', state: 'rolled_back' },
      { entityRef: 'component:default/a', createdBy: 'user:default/al', createdAt: '2026-11-26T06:00:00Z', state: 'succeeded' },
      { entityRef: 'component:default/b', createdBy: 'user:default/bo', createdAt: '2026-11-25T06:00:00Z', state: 'succeeded' },
      { entityRef: 'component:default/a', createdBy: 'user:default/bo', createdAt: '2026-11-28T06:00:00Z', state: 'rolled_back' },
    ]);
    expect(h).toEqual({
      serviceReleases: 2,
      serviceFailureRate: 0.5,
      authorReleases: 2,
      authorFailureRate: 0.5,
      authorServiceReleases: 1,
      hoursSinceLastRelease: 4,
      dayOfWeek: 5,
      hourUtc: 10,
    });
  });

  it('the prior starts at the smoothed rollback rate and names every term it adds', () => {
    expect(priorAssessment({ serviceReleases: 0 }).probability).toBeCloseTo(0.1);
    const busy = priorAssessment({ serviceReleases: 10, serviceFailureRate: 0.5, linesChanged: 1600, breaking: 1, trafficRatio: 2 });
    expect(busy.probability).toBeGreaterThan(0.5);
    expect(busy.contributions.map(c => c.feature).sort()).toEqual(['breaking', 'linesChanged', 'serviceFailureRate', 'trafficRatio']);
    expect(busy.contributions.every(c => c.effect > 0)).toBe(true);
  });
});
