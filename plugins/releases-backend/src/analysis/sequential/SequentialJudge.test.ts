import {
  emptyTrafficStats,
  SeededRandom,
  TrafficStats,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline } from '../judge';
import { DEFAULT_SEQUENTIAL_OPTIONS, SequentialJudge } from './SequentialJudge';
import { emptyRateTest, evaluateRateTest, rateRatioGrid, updateRateTest } from './rateRatioTest';

const now = new Date('2026-01-01T00:00:00.000Z');
const step = { index: 0, count: 1 };

/** One side's second of traffic: Poisson-ish requests, binomial errors, latencies in two buckets. */
function side(random: SeededRandom, requests: number, errorRate: number, slowShare: number): TrafficStats {
  const stats = emptyTrafficStats();
  stats.requests = requests;
  stats.errors = random.binomial(requests, errorRate);
  const slow = random.binomial(requests, slowShare);
  const fastBucket = stats.latency.boundsMs.indexOf(125);
  const slowBucket = stats.latency.boundsMs.indexOf(300);
  stats.latency.counts[fastBucket] = requests - slow;
  stats.latency.counts[slowBucket] = slow;
  return stats;
}

/** Runs a release's worth of ticks and says at which tick (if any) the judge failed it. */
function run(seed: number, ticks: number, weight: number, canary: { errorRate: number; slowShare: number }) {
  const judge = new SequentialJudge();
  const random = new SeededRandom(seed);
  let state: unknown;
  for (let t = 1; t <= ticks; t++) {
    const total = random.poisson(2000);
    const canaryRequests = random.binomial(total, weight);
    const sample: CanaryBaseline = {
      canary: side(random, canaryRequests, canary.errorRate, canary.slowShare),
      baseline: side(random, total - canaryRequests, 0.0002, 0.05),
    };
    const result = judge.judge({ sample, window: sample, state, step, now });
    state = JSON.parse(JSON.stringify(result.state)); // the driver persists it as JSON
    if (result.verdict.outcome === 'fail') return { failedAt: t, verdict: result.verdict };
  }
  return { failedAt: undefined, verdict: undefined };
}

describe('rate ratio test', () => {
  it('puts the null on the grid and rejects a clear difference with an honest bound', () => {
    const grid = rateRatioGrid(1.2);
    const nullIndex = grid.indexOf(1.2);
    expect(nullIndex).toBeGreaterThan(0);
    let state = emptyRateTest(grid);
    for (let t = 0; t < 10; t++) {
      state = updateRateTest(grid, state, { canaryEvents: 10, canaryRequests: 1000, baselineEvents: 10, baselineRequests: 9000 });
    }
    const result = evaluateRateTest(grid, state, nullIndex, 0.01);
    expect(result.estimate).toBeCloseTo(9);
    expect(result.rejected).toBe(true);
    expect(result.lowerBound).toBeGreaterThan(3);
    expect(result.lowerBound).toBeLessThan(9);
  });

  it('ignores ticks where a side served nothing', () => {
    const grid = rateRatioGrid(1.2);
    const state = updateRateTest(grid, emptyRateTest(grid), { canaryEvents: 5, canaryRequests: 100, baselineEvents: 0, baselineRequests: 0 });
    expect(state.logLikelihood.every(l => l === 0)).toBe(true);
    expect(state.totals.canaryEvents).toBe(5);
  });
});

describe('SequentialJudge', () => {
  it('rolls back at most alpha of healthy canaries, however often it looks (200 releases of 400 ticks)', () => {
    const failures = Array.from({ length: 200 }, (_, i) => run(1000 + i, 400, 0.25, { errorRate: 0.0002, slowShare: 0.05 }))
      .filter(r => r.failedAt !== undefined).length;
    // Two tests at alpha 1 % each: at most 2 % in expectation; 4 % leaves room for sampling noise.
    expect(failures / 200).toBeLessThanOrEqual(0.04);
  });

  it('fails a canary whose requests are much slower within a few ticks, naming both p95s', () => {
    const { failedAt, verdict } = run(1, 60, 0.01, { errorRate: 0.0002, slowShare: 0.95 });
    expect(failedAt).toBeLessThanOrEqual(4);
    const latency = verdict!.evidence.find(e => e.metric === 'p95LatencyMs')!;
    expect(latency).toMatchObject({ outcome: 'fail', canary: expect.any(Number), baseline: expect.any(Number) });
    expect(latency.lowerBound).toBeGreaterThan(1.2);
    expect(verdict!.summary).toMatch(/^P95 latency [\d,]+ ms vs [\d,]+ ms baseline: canary share of slow requests [\d.]+x the baseline's, at least [\d.]+x with 99 % confidence$/);
  });

  it('fails an error-only regression of 5x at 10 % weight, with the error evidence', () => {
    const { failedAt, verdict } = run(2, 600, 0.1, { errorRate: 0.001, slowShare: 0.05 });
    expect(failedAt).toBeDefined();
    const errors = verdict!.evidence.find(e => e.metric === 'errorRate')!;
    expect(errors.outcome).toBe('fail');
    expect(errors.eValue).toBeGreaterThanOrEqual(100);
    expect(errors.estimate).toBeGreaterThan(2);
  });

  it('does not fail a canary that is worse by less than the tolerance', () => {
    const failures = Array.from({ length: 100 }, (_, i) => run(5000 + i, 300, 0.25, { errorRate: 0.0002 * 1.1, slowShare: 0.05 * 1.1 }))
      .filter(r => r.failedAt !== undefined).length;
    expect(failures).toBeLessThanOrEqual(4);
  });

  it('tests each step afresh at alpha / steps, so a long healthy history does not slow detection', () => {
    const judge = new SequentialJudge();
    const random = new SeededRandom(9);
    let state: unknown;
    const tickAt = (index: number, slowShare: number) => {
      const sample = { canary: side(random, 200, 0.0002, slowShare), baseline: side(random, 1800, 0.0002, 0.05) };
      const result = judge.judge({ sample, window: sample, state, step: { index, count: 6 }, now });
      state = result.state;
      return result.verdict;
    };
    for (let t = 0; t < 1500; t++) expect(tickAt(0, 0.05).outcome).not.toBe('fail');
    // A modest slowdown (2x the slow share) from the next step on: about 2 nats of evidence a tick
    // against a threshold of log(600) plus the mixture's cost, so a handful of ticks.
    let ticks = 1;
    let verdict = tickAt(1, 0.1);
    while (verdict.outcome !== 'fail' && ticks < 30) {
      verdict = tickAt(1, 0.1);
      ticks++;
    }
    expect(ticks).toBeLessThanOrEqual(15);
    expect(verdict.evidence[1].rule).toMatch(/of (200|1200) needed/);
  });

  it('starts afresh from a state of another configuration', () => {
    const other = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, errorRate: { minEffect: 0.5, critical: true } });
    const sample = { canary: emptyTrafficStats(), baseline: emptyTrafficStats() };
    const { state } = other.judge({ sample, window: sample, step, now });
    const result = new SequentialJudge().judge({ sample, window: sample, state, step, now });
    expect(result.verdict.outcome).toBe('inconclusive');
  });

  it('pauses instead of rolling back when the failing metric is not critical', () => {
    const judge = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, latency: { ...DEFAULT_SEQUENTIAL_OPTIONS.latency, critical: false } });
    const random = new SeededRandom(3);
    let state: unknown;
    let outcome = 'pass';
    for (let t = 0; t < 20 && outcome !== 'warn'; t++) {
      const sample = { canary: side(random, 200, 0.0002, 0.9), baseline: side(random, 1800, 0.0002, 0.05) };
      const result = judge.judge({ sample, window: sample, state, step, now });
      state = result.state;
      outcome = result.verdict.outcome;
    }
    expect(outcome).toBe('warn');
  });
});

