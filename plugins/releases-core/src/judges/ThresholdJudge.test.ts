import { emptyTrafficStats } from '@release-pilot/plugin-releases-common';
import { ThresholdJudge } from './ThresholdJudge';

const now = new Date('2026-01-01T00:00:00.000Z');
const step = { index: 0, count: 1 };

function stats(requests: number, errors: number, latencyMs: number) {
  const s = emptyTrafficStats();
  s.requests = requests;
  s.errors = errors;
  s.latency.counts[s.latency.boundsMs.findIndex(b => latencyMs <= b)] = requests;
  return s;
}

function run(judge: ThresholdJudge, ticks: Array<[number, number, number]>) {
  let state: unknown;
  return ticks.map(([requests, errors, latency]) => {
    const sample = { canary: stats(requests, errors, latency), baseline: stats(1000, 1, 140) };
    const result = judge.judge({ sample, window: sample, state, step, now });
    state = result.state;
    return result.verdict;
  });
}

describe('ThresholdJudge', () => {
  const options = {
    metrics: [
      { metric: 'errorRate' as const, max: 0.01 },
      { metric: 'p95LatencyMs' as const, max: 500 },
    ],
    minRequests: 20,
  };

  it('fails each measurement that breaks a bound, and only that one (the engine counts them against the limits)', () => {
    const verdicts = run(new ThresholdJudge(options), [
      [100, 5, 140],
      [100, 0, 140],
      [100, 5, 140],
    ]);
    expect(verdicts.map(v => v.outcome)).toEqual(['fail', 'pass', 'fail']);
    expect(verdicts[0].summary).toBe('Threshold broken: errorRate <= 0.01 (canary 5.00%)');
  });

  it('measures latency against its bound', () => {
    const verdicts = run(new ThresholdJudge(options), [[100, 0, 900]]);
    expect(verdicts[0].outcome).toBe('fail');
    expect(verdicts[0].evidence[1]).toMatchObject({ metric: 'p95LatencyMs', outcome: 'fail' });
  });

  it('is inconclusive with fewer canary requests than its minimum', () => {
    const verdicts = run(new ThresholdJudge(options), [[5, 5, 900]]);
    expect(verdicts.map(v => v.outcome)).toEqual(['inconclusive']);
  });

  it('supports lower bounds and refuses a metric without bounds', () => {
    const low = run(new ThresholdJudge({ ...options, metrics: [{ metric: 'p95LatencyMs', min: 200 }] }), [[100, 0, 140]]);
    expect(low[0].outcome).toBe('fail');
    expect(() => new ThresholdJudge({ ...options, metrics: [{ metric: 'errorRate' }] })).toThrow('Threshold for errorRate needs a min or a max');
    expect(() => new ThresholdJudge({ ...options, metrics: [] })).toThrow(/at least one metric/);
  });
});
