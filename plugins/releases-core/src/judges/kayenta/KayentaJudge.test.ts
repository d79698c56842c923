import { SeededRandom } from '../../simulation/random';
import { makeStats } from '../../testUtils/fixtures';
import { DEFAULT_KAYENTA_OPTIONS, KayentaJudge, KayentaJudgeOptions } from './KayentaJudge';

const now = new Date('2026-01-01T00:00:00.000Z');

/** Ticks of 1,000 requests a side; the canary's latency bucket is `canaryMs`, the baseline's 100 ms. */
function judgeTicks(options: KayentaJudgeOptions, canaryMs: number, ticks = 20) {
  const judge = new KayentaJudge(options);
  const random = new SeededRandom(3);
  let state: unknown;
  let verdict;
  for (let t = 0; t < ticks; t++) {
    const sample = {
      canary: makeStats(1000, random.binomial(1000, 0.01), canaryMs),
      baseline: makeStats(1000, random.binomial(1000, 0.01), 100),
    };
    ({ verdict, state } = judge.judge({ sample, window: sample, state, step: { index: 0, count: 1 }, now }));
  }
  return verdict!;
}

describe('KayentaJudge', () => {
  it('passes a canary like its baseline and fails a slower one, naming the metric', () => {
    expect(judgeTicks(DEFAULT_KAYENTA_OPTIONS, 100).outcome).toBe('pass');
    const slow = judgeTicks(DEFAULT_KAYENTA_OPTIONS, 400);
    expect(slow.outcome).toBe('fail');
    expect(slow.summary).toMatch(/p95 latency High/);
  });

  it('weights the metric groups: a non-critical slow canary is marginal when errors weigh 80 %, a fail at 50/50', () => {
    const nonCritical = { ...DEFAULT_KAYENTA_OPTIONS, metric: { ...DEFAULT_KAYENTA_OPTIONS.metric, critical: false } };
    const even = judgeTicks(nonCritical, 400);
    expect(even.outcome).toBe('fail');
    expect(even.summary).toMatch(/^Kayenta score 50/);
    const weighted = judgeTicks({ ...nonCritical, groupWeights: { errorRate: 80, p95LatencyMs: 20 } }, 400);
    expect(weighted.outcome).toBe('warn');
    expect(weighted.summary).toBe('Kayenta score 80: Marginal');
  });
});
