import { makeStats } from '../testUtils/fixtures';
import { FixedRuleJudge } from './FixedRuleJudge';

const judge = new FixedRuleJudge();
const now = new Date('2026-01-01T00:00:00.000Z');

describe('FixedRuleJudge', () => {
  it('passes a canary that behaves like the baseline', () => {
    const verdict = judge.judgeWindow({ canary: makeStats(1000, 1, 140), baseline: makeStats(10000, 10, 140) }, now);
    expect(verdict.outcome).toBe('pass');
    expect(verdict.evidence.map(e => e.outcome)).toEqual(['pass', 'pass']);
  });

  it('is inconclusive with too little traffic on a side', () => {
    const verdict = judge.judgeWindow({ canary: makeStats(20, 5, 3000), baseline: makeStats(10000, 2, 140) }, now);
    expect(verdict.outcome).toBe('inconclusive');
    expect(verdict.summary).toMatch(/Not enough traffic yet \(20 canary/);
  });

  it('fails on an error rate above 1.5x the baseline with enough errors, naming both values', () => {
    const verdict = judge.judgeWindow({ canary: makeStats(10000, 18, 140), baseline: makeStats(10000, 2, 140) }, now);
    expect(verdict.outcome).toBe('fail');
    const evidence = verdict.evidence.find(e => e.metric === 'errorRate')!;
    expect(evidence).toMatchObject({ outcome: 'fail', canary: 0.0018, baseline: 0.0002, canaryRequests: 10000 });
    expect(verdict.summary).toBe('Error rate 0.18% vs 0.02% baseline (9.0x)');
  });

  it('does not fail on a high error rate with fewer errors than the minimum', () => {
    const verdict = judge.judgeWindow({ canary: makeStats(1000, 4, 140), baseline: makeStats(10000, 2, 140) }, now);
    expect(verdict.evidence.find(e => e.metric === 'errorRate')!.outcome).toBe('pass');
  });

  it('fails above 2x p95 and warns above 1.3x', () => {
    const failing = judge.judgeWindow({ canary: makeStats(1000, 0, 2900), baseline: makeStats(10000, 0, 140) }, now);
    expect(failing.outcome).toBe('fail');
    expect(failing.summary).toMatch(/^P95 latency 2,9\d\d ms vs 14\d ms baseline/);
    const slow = judge.judgeWindow({ canary: makeStats(1000, 0, 190), baseline: makeStats(10000, 0, 140) }, now);
    expect(slow.outcome).toBe('warn');
    const fine = judge.judgeWindow({ canary: makeStats(1000, 0, 160), baseline: makeStats(10000, 0, 150) }, now);
    expect(fine.outcome).toBe('pass');
  });

  it('reports the worst outcome overall', () => {
    const verdict = judge.judgeWindow({ canary: makeStats(10000, 50, 190), baseline: makeStats(10000, 2, 140) }, now);
    expect(verdict.evidence.map(e => e.outcome)).toEqual(['fail', 'warn']);
    expect(verdict.outcome).toBe('fail');
  });

  it('honours configured thresholds', () => {
    const strict = new FixedRuleJudge({ errorRateFailRatio: 1.1, minCanaryErrors: 1, p95FailRatio: 1.2, p95WarnRatio: 1.1, minRequests: 10 });
    expect(strict.judgeWindow({ canary: makeStats(100, 0, 190), baseline: makeStats(100, 0, 140) }, now).outcome).toBe('fail');
  });
});
