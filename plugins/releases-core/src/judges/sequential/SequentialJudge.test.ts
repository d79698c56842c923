import { emptyTrafficStats, MetricEvidence, TrafficStats } from '@release-pilot/plugin-releases-common';
import { SeededRandom } from '../../simulation/random';
import { CanaryBaseline } from '../judge';
import { DEFAULT_SEQUENTIAL_OPTIONS, SequentialJudge } from './SequentialJudge';
import { emptyRateTest, evaluateRateTest, poissonUpperBound, rateRatioGrid, updateRateTest } from './rateRatioTest';

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

  it('mixes the likelihood ratio over the alternatives: half decaying from the null up, half even', () => {
    const grid = rateRatioGrid(1.2);
    const nullIndex = grid.indexOf(1.2);
    let state = emptyRateTest(grid);
    const random = new SeededRandom(5);
    for (let t = 0; t < 50; t++) {
      state = updateRateTest(grid, state, {
        canaryEvents: random.poisson(3),
        canaryRequests: 200,
        baselineEvents: random.poisson(10),
        baselineRequests: 1000,
      });
    }
    // Brute force: sum over k above the null of [r^(k-i-1) (1-r) / (1-r^count) / 2 + 1 / (2 count)] x exp(l[k] - l[i]).
    const r = 0.85;
    const above = grid.length - 1 - nullIndex;
    let sum = 0;
    for (let k = nullIndex + 1; k < grid.length; k++) {
      const weight = (r ** (k - nullIndex - 1) * (1 - r)) / (1 - r ** above) / 2 + 1 / (2 * above);
      sum += weight * Math.exp(state.logLikelihood[k] - state.logLikelihood[nullIndex]);
    }
    expect(evaluateRateTest(grid, state, nullIndex, 0.01).eValue).toBeCloseTo(sum, 8);
  });

  it('rejects a canary exactly at the tolerance (the null\'s edge) in at most alpha of 1,000 runs of 200 looks', () => {
    const grid = rateRatioGrid(1.2);
    const nullIndex = grid.indexOf(1.2);
    const random = new SeededRandom(11);
    let rejected = 0;
    for (let release = 0; release < 1000; release++) {
      let test = emptyRateTest(grid);
      for (let t = 0; t < 200; t++) {
        test = updateRateTest(grid, test, {
          canaryEvents: random.poisson(0.5 * 1.2),
          canaryRequests: 100,
          baselineEvents: random.poisson(2),
          baselineRequests: 400,
        });
        if (evaluateRateTest(grid, test, nullIndex, 0.01).rejected) {
          rejected++;
          break;
        }
      }
    }
    expect(rejected / 1000).toBeLessThanOrEqual(0.01);
  });

  /** Runs of `shared` ticks of both sides, then `alone` ticks of the canary serving alone, at the null's edge (1.2x). */
  function canaryAloneRejections(boundAlpha: number, runs: number): number {
    const grid = rateRatioGrid(1.2);
    const nullIndex = grid.indexOf(1.2);
    const random = new SeededRandom(21);
    let rejected = 0;
    for (let release = 0; release < runs; release++) {
      let test = emptyRateTest(grid);
      const tick = (counts: Parameters<typeof updateRateTest>[2]) => {
        test = updateRateTest(grid, test, counts, { canaryAlone: { alpha: boundAlpha } });
        return evaluateRateTest(grid, test, nullIndex, 0.01).rejected;
      };
      let hit = false;
      for (let t = 0; t < 20 && !hit; t++) {
        hit = tick({ canaryEvents: random.poisson(0.6), canaryRequests: 100, baselineEvents: random.poisson(4.5), baselineRequests: 900 });
      }
      for (let t = 0; t < 300 && !hit; t++) hit = tick({ canaryEvents: random.poisson(6), canaryRequests: 1000, baselineEvents: 0, baselineRequests: 0 });
      if (hit) rejected++;
    }
    return rejected / runs;
  }

  it('compares a canary serving alone with the baseline\'s earlier rate: at most alpha plus the bound\'s alpha at the null\'s edge', () => {
    expect(canaryAloneRejections(0.0005, 1000)).toBeLessThanOrEqual(0.01 + 0.0005);
    // The check catches a broken version: without the bound's margin (the baseline's rate taken at
    // face value) a baseline that happened to look good makes the canary look worse, far too often.
    expect(canaryAloneRejections(0.5, 500)).toBeGreaterThan(0.02);
  });

  it('bounds a Poisson mean from above: never below the count, and wider for a smaller alpha', () => {
    expect(poissonUpperBound(0, 0.01)).toBeCloseTo(Math.log(100));
    expect(poissonUpperBound(100, 0.01)).toBeGreaterThan(120);
    expect(poissonUpperBound(100, 0.01)).toBeLessThan(140);
    expect(poissonUpperBound(100, 0.001)).toBeGreaterThan(poissonUpperBound(100, 0.01));
    // Coverage: a Poisson(100) count's bound is below 100 in at most 1 % of 5,000 draws.
    const random = new SeededRandom(4);
    const misses = Array.from({ length: 5000 }, () => poissonUpperBound(random.poisson(100), 0.01) < 100).filter(Boolean).length;
    expect(misses / 5000).toBeLessThanOrEqual(0.01);
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

  it('fails a canary whose requests are much slower within a few ticks, naming both sides\' quantiles and the shift in ms', () => {
    const { failedAt, verdict } = run(1, 60, 0.01, { errorRate: 0.0002, slowShare: 0.95 });
    expect(failedAt).toBeLessThanOrEqual(4);
    const latency = verdict!.evidence.find(e => e.metric === 'p95LatencyMs')!;
    expect(latency).toMatchObject({ outcome: 'fail', canary: expect.any(Number), baseline: expect.any(Number) });
    expect(latency.lowerBound).toBeGreaterThan(1.2);
    expect(verdict!.summary).toMatch(
      /^P(50|95|99) latency [\d,]+ ms vs [\d,]+ ms baseline, \+[\d,]+ ms \(\+[\d,]+ %\)(, at least \+[\d,]+ ms \(\+[\d,]+ %\))?: canary share of slow requests [\d.]+x the baseline's, at least [\d.]+x with 99 % confidence$/,
    );
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

  it('tests each step afresh at alpha x 0.1 / steps, so a long healthy history does not slow detection', () => {
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
    const slow = verdict.evidence.find(e => e.outcome === 'fail')!;
    expect(slow.rule).toMatch(/of (353|18,000) needed; one of 3 latency quantiles, each at alpha \/ 3\)$/);
  });

  it('catches at 100 % an error regression the steps before did not show, against the baseline\'s earlier rate; not when told not to', () => {
    const lastStep = (compareCanaryAlone: boolean) => {
      const judge = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, compareCanaryAlone });
      const random = new SeededRandom(3);
      let state: unknown;
      const tick = (index: number, canary: TrafficStats, baseline: TrafficStats) => {
        const sample = { canary, baseline };
        const result = judge.judge({ sample, window: sample, state, step: { index, count: 2 }, now });
        state = JSON.parse(JSON.stringify(result.state));
        return result.verdict;
      };
      for (let t = 0; t < 120; t++) expect(tick(0, side(random, 200, 0.005, 0.05), side(random, 1800, 0.005, 0.05)).outcome).not.toBe('fail');
      // The canary alone, at 3x the errors: 2,000 requests a tick against the baseline's 1,080 errors of 216,000 before.
      for (let t = 0; t < 60; t++) {
        const verdict = tick(1, side(random, 2000, 0.015, 0.05), emptyTrafficStats());
        if (verdict.outcome === 'fail') return { ticks: t + 1, verdict };
      }
      return { ticks: undefined, verdict: undefined };
    };
    const caught = lastStep(true);
    expect(caught.ticks).toBeLessThanOrEqual(10);
    const errors = caught.verdict!.evidence.find(e => e.metric === 'errorRate')!;
    expect(errors).toMatchObject({ outcome: 'fail', baselineEarlier: true });
    // The baseline's rate before the canary served alone (0.5 %), not "no data".
    expect(errors.baseline).toBeCloseTo(0.005, 3);
    expect(caught.verdict!.summary).toMatch(/^Error rate [\d.]+% vs 0\.5\d*% baseline \(before the canary served alone\): canary error rate [\d.]+x the baseline's/);
    expect(lastStep(false).ticks).toBeUndefined();
  });

  it('starts afresh from a state of another configuration', () => {
    const other = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, errorRate: { minEffect: 0.5, critical: true } });
    const sample = { canary: emptyTrafficStats(), baseline: emptyTrafficStats() };
    const { state } = other.judge({ sample, window: sample, step, now });
    const result = new SequentialJudge().judge({ sample, window: sample, state, step, now });
    expect(result.verdict.outcome).toBe('inconclusive');
  });

  it('does not roll back a canary a fraction of a millisecond slower, and still catches a slow one at once', () => {
    // The integration stack's shape: 2-10 ms answers, Prometheus buckets 5, 10 and 25 ms. A freshly
    // started canary process answers a little slower: 8 % of its requests just past 10 ms against
    // the baseline's 2 %, its p95 9.6 against 9.4 ms. Counting requests past the baseline's p95 (10 ms)
    // made that a 4x "regression" and rolled healthy releases back; past p95 + 20 % (25 ms) it is nothing.
    const stack = (random: SeededRandom, requests: number, pastTen: number, extraMs = 0): TrafficStats => {
      const slow = random.binomial(requests, pastTen);
      const counts = extraMs > 0 ? [0, 0, 0, 0, requests, 0, 0, 0, 0, 0] : [Math.round((requests - slow) * 0.4), requests - slow - Math.round((requests - slow) * 0.4), slow, 0, 0, 0, 0, 0, 0, 0];
      return { requests, errors: 0, latency: { boundsMs: [5, 10, 25, 50, 100, 250, 500, 1000, 2500], counts } };
    };
    const judgeRun = (canary: (random: SeededRandom, requests: number) => TrafficStats) => {
      const judge = new SequentialJudge();
      const random = new SeededRandom(11);
      let state: unknown;
      for (let t = 1; t <= 300; t++) {
        const sample = { canary: canary(random, 30), baseline: stack(random, 270, 0.02) };
        const result = judge.judge({ sample, window: sample, state, step, now });
        state = JSON.parse(JSON.stringify(result.state));
        if (result.verdict.outcome === 'fail') return { failedAt: t, verdict: result.verdict };
      }
      return { failedAt: undefined, verdict: undefined };
    };
    expect(judgeRun((random, n) => stack(random, n, 0.08)).failedAt).toBeUndefined();
    const slow = judgeRun((random, n) => stack(random, n, 0.02, 150));
    expect(slow.failedAt).toBeLessThanOrEqual(3);
    expect(slow.verdict!.evidence.find(e => e.metric === 'p95LatencyMs' && e.quantile === 0.95)).toMatchObject({ outcome: 'fail', threshold: 25 });
    const p95 = slow.verdict!.evidence.find(e => e.metric === 'p95LatencyMs' && e.quantile === 0.95)!;
    expect(p95.rule).toMatch(/^fail when the share of requests slower than 25 ms \(the baseline's p95 plus 20 % and 10 ms, up to a bucket bound\) is above 1.2x/);
  });

  it('judges the latency quantile it is configured for, and names it', () => {
    const judge = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, latency: { ...DEFAULT_SEQUENTIAL_OPTIONS.latency, quantiles: [0.5] } });
    const random = new SeededRandom(9);
    let state: unknown;
    let verdict;
    for (let t = 0; t < 10; t++) {
      // Half the baseline's requests are slow (300 ms) and nearly all the canary's: its p50 moved.
      const sample = { canary: side(random, 500, 0.0002, 0.95), baseline: side(random, 1500, 0.0002, 0.5) };
      ({ verdict, state } = judge.judge({ sample, window: sample, state, step, now }));
    }
    const latency = verdict!.evidence.find(e => e.metric === 'p95LatencyMs')!;
    expect(latency).toMatchObject({ outcome: 'fail', quantile: 0.5 });
    expect(verdict!.summary).toMatch(/^P50 latency /);
  });

  it('judges p50, p95 and p99 at once: a tail-only regression fails p99 alone, with its shift and bounds in ms', () => {
    /** Lognormal latencies (median 90 ms) into the default buckets; the slowest `tailShare` `tailFactor` times slower. */
    const lognormalSide = (random: SeededRandom, requests: number, tailShare: number, tailFactor: number) => {
      const stats = emptyTrafficStats();
      stats.requests = requests;
      for (let i = 0; i < requests; i++) {
        let ms = random.lognormal(90, 0.29);
        if (random.uniform() < tailShare) ms = Math.max(ms, 90 * Math.exp(0.29 * 2.05)) * tailFactor;
        const bucket = stats.latency.boundsMs.findIndex(b => ms <= b);
        stats.latency.counts[bucket === -1 ? stats.latency.boundsMs.length : bucket]++;
      }
      return stats;
    };
    const judge = new SequentialJudge();
    const random = new SeededRandom(12);
    let state: unknown;
    let verdict;
    for (let t = 0; t < 60 && verdict?.outcome !== 'fail'; t++) {
      // 2 % of the canary's requests take 3x the baseline's p98: its p99 triples, its p50 and p95 do not move.
      const sample = { canary: lognormalSide(random, 400, 0.02, 3), baseline: lognormalSide(random, 1600, 0, 1) };
      ({ verdict, state } = judge.judge({ sample, window: sample, state, step, now }));
      state = JSON.parse(JSON.stringify(state));
    }
    const byQuantile = Object.fromEntries(verdict!.evidence.filter(e => e.metric === 'p95LatencyMs').map(e => [e.quantile, e]));
    expect(Object.keys(byQuantile).sort()).toEqual(['0.5', '0.95', '0.99']);
    expect(byQuantile[0.99].outcome).toBe('fail');
    expect(byQuantile[0.5].outcome).toBe('pass');
    expect(byQuantile[0.95].outcome).toBe('pass');
    expect(verdict!.summary).toMatch(/^P99 latency [\d,]+ ms vs [\d,]+ ms baseline, \+[\d,]+ ms \(\+[\d,]+ %\)/);
    // The bounds (bucket resolution) need more data than the test: had the release gone on, the
    // canary's p99 is shown above the baseline's, and the shift has a positive lower end.
    let ticks = 0;
    const p99 = () => verdict!.evidence.find((e: MetricEvidence) => e.quantile === 0.99)!;
    while (!(p99().quantileBounds && p99().quantileBounds!.canaryAboveMs > p99().quantileBounds!.baselineAtMostMs) && ticks++ < 300) {
      const sample = { canary: lognormalSide(random, 400, 0.02, 3), baseline: lognormalSide(random, 1600, 0, 1) };
      ({ verdict, state } = judge.judge({ sample, window: sample, state, step, now }));
    }
    expect(ticks).toBeLessThan(300);
    expect(p99().quantileBounds!.baselineAtMostMs).toBeGreaterThanOrEqual(175);
    expect(verdict!.summary).toMatch(/^P99 latency [\d,]+ ms vs [\d,]+ ms baseline, \+[\d,]+ ms \(\+[\d,]+ %\), at least \+[\d,]+ ms \(\+[\d,]+ %\): /);
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

  describe('count metrics with a direction', () => {
    /** A release of `ticks` seconds at 25 % weight where the canary places orders at `ordersRatio` times the baseline's 3 %. */
    function runOrders(seed: number, ticks: number, ordersRatio: number, direction: 'higher' | 'lower' | 'both') {
      const judge = new SequentialJudge({ ...DEFAULT_SEQUENTIAL_OPTIONS, counters: { orders: { minEffect: 0.1, critical: true, direction } } });
      const random = new SeededRandom(seed);
      let state: unknown;
      for (let t = 1; t <= ticks; t++) {
        const canary = side(random, 500, 0.0002, 0.05);
        const baseline = side(random, 1500, 0.0002, 0.05);
        canary.counters = { orders: random.binomial(500, 0.03 * ordersRatio) };
        baseline.counters = { orders: random.binomial(1500, 0.03) };
        const sample = { canary, baseline };
        const result = judge.judge({ sample, window: sample, state, step, now });
        state = result.state;
        if (result.verdict.outcome === 'fail') return { failedAt: t, verdict: result.verdict };
      }
      return { failedAt: undefined, verdict: undefined };
    }

    it('fails a canary that places 40 % fewer orders when fewer is worse, in seconds, saying so', () => {
      const { failedAt, verdict } = runOrders(1, 120, 0.6, 'lower');
      expect(failedAt).toBeLessThan(30);
      const orders = verdict!.evidence.find(e => e.metric === 'counter:orders')!;
      expect(orders).toMatchObject({ outcome: 'fail', direction: 'lower' });
      expect(orders.canary).toBeLessThan(orders.baseline);
      expect(verdict!.summary).toMatch(/^Orders [\d.]+ per 100 requests vs [\d.]+ per 100 requests baseline: canary orders rate [\d.]+x lower than the baseline's, at least [\d.]+x/);
    });

    it('says the canary has none when it places no orders at all', () => {
      const { verdict } = runOrders(3, 60, 0, 'lower');
      expect(verdict!.summary).toMatch(/^Orders 0 per 100 requests vs [\d.]+ per 100 requests baseline: canary orders rate lower than the baseline's: the canary has none, at least [\d.]+x with 99 % confidence/);
    });

    it('never fails a canary for more orders when fewer is worse, but does when both ways count', () => {
      expect(runOrders(2, 300, 2, 'lower').failedAt).toBeUndefined();
      const both = runOrders(2, 300, 2, 'both');
      expect(both.failedAt).toBeDefined();
      expect(both.verdict!.evidence.find(e => e.metric === 'counter:orders')!.direction).toBe('higher');
    });

    it('rolls back at most alpha of healthy canaries when both directions are tested (60 releases of 300 ticks)', () => {
      const failures = Array.from({ length: 60 }, (_, i) => runOrders(100 + i, 300, 1, 'both')).filter(r => r.failedAt !== undefined);
      // Errors and slow requests at 1 % each, orders at 1 % split across both ways: 3 % at most in expectation.
      expect(failures.length).toBeLessThanOrEqual(4);
    });
  });
});
