import { KayentaClassification } from './classifier';
import { scoreCanaryRun } from './scoring';

const metric = (name: string, groups: string[], classification: KayentaClassification, critical = false) => ({
  name,
  groups,
  result: { classification, critical, deviation: 1 },
});
const thresholds = { pass: 95, marginal: 75 };

describe('scoreCanaryRun', () => {
  it('weights group scores and shares the rest of the weight among unweighted groups', () => {
    const result = scoreCanaryRun(
      [
        metric('errors', ['errors'], 'Pass'),
        metric('5xx', ['errors'], 'High'),
        metric('p50', ['latency'], 'Pass'),
        metric('p99', ['latency'], 'Pass'),
        metric('cpu', ['system'], 'Low'),
      ],
      { errors: 50 },
      thresholds,
    );
    // errors 50 % x 50, latency 100 % x 25, system 0 % x 25
    expect(result.groups.map(g => [g.name, g.score, g.weight])).toEqual([
      ['errors', 50, 50],
      ['latency', 100, 25],
      ['system', 0, 25],
    ]);
    expect(result.score).toBe(50);
    expect(result.outcome).toBe('Fail');
  });

  it('counts NodataFailMetric against its group and leaves groups without data out', () => {
    const result = scoreCanaryRun(
      [metric('a', ['g1'], 'Pass'), metric('b', ['g1'], 'NodataFailMetric'), metric('c', ['g2'], 'Nodata'), metric('d', ['g1'], 'Pass'), metric('e', ['g1'], 'Pass')],
      { g1: 80, g2: 20 },
      thresholds,
    );
    expect(result.groups.find(g => g.name === 'g2')?.noData).toBe(true);
    expect(result.score).toBe(60); // g1: 3 of 4 pass = 75 % x 80
    expect(result.outcome).toBe('Fail');
  });

  it('passes, or is marginal, by the thresholds', () => {
    expect(scoreCanaryRun([metric('a', ['g'], 'Pass')], {}, thresholds)).toMatchObject({ score: 100, outcome: 'Pass' });
    const marginal = scoreCanaryRun(
      [metric('a', ['g'], 'Pass'), metric('b', ['g'], 'Pass'), metric('c', ['g'], 'Pass'), metric('d', ['g'], 'High')],
      {},
      thresholds,
    );
    expect(marginal).toMatchObject({ score: 75, outcome: 'Marginal' });
  });

  it('forces 0 on a failing critical metric or when half the metrics have no data', () => {
    const critical = scoreCanaryRun([metric('a', ['g'], 'Pass'), metric('b', ['g'], 'High', true)], {}, thresholds);
    expect(critical).toMatchObject({ score: 0, outcome: 'Fail', forcedToZero: 'critical metric b was High' });
    const nodata = scoreCanaryRun([metric('a', ['g'], 'Pass'), metric('b', ['g'], 'Nodata')], {}, thresholds);
    expect(nodata).toMatchObject({ score: 0, forcedToZero: '1 of 2 metrics had no data' });
  });
});
