import { ConfigReader } from '@backstage/config';
import { FixedRuleJudge, KayentaJudge, SequentialJudge, ThresholdJudge } from '@release-pilot/plugin-releases-core';
import { readReleasesConfig } from './config';

describe('readReleasesConfig', () => {
  it('defaults the tick to 5 seconds', () => {
    expect(readReleasesConfig(new ConfigReader({})).tickSeconds).toBe(5);
  });

  it('refuses a tick below one second', () => {
    expect(() => readReleasesConfig(new ConfigReader({ releases: { engine: { tickSeconds: 0.5 } } }))).toThrow(
      'Invalid config releases.engine.tickSeconds: 0.5; it must be a number of at least 1',
    );
  });

  it('uses the sequential judge unless told otherwise', () => {
    expect(readReleasesConfig(new ConfigReader({})).judges.defaultJudge).toBeInstanceOf(SequentialJudge);
    const fixed = readReleasesConfig(new ConfigReader({ releases: { judge: { type: 'fixed', windowSeconds: 10 } } }));
    expect(fixed.judges.defaultJudge).toBeInstanceOf(FixedRuleJudge);
    expect(fixed.driver.analysisWindowSeconds).toBe(10);
  });

  it('builds the threshold judge from config', () => {
    const config = readReleasesConfig(
      new ConfigReader({ releases: { judge: { type: 'threshold', threshold: { metrics: [{ metric: 'errorRate', max: 0.01 }] }, failureLimit: 1 } } }),
    );
    expect(config.judges.defaultJudge).toBeInstanceOf(ThresholdJudge);
    expect(config.judges.limitsFor(undefined)).toEqual({ failureLimit: 1, inconclusiveLimit: undefined, consecutiveErrorLimit: undefined });
    // The limits moved out of `threshold`: config that still has them there says where they go.
    expect(() =>
      readReleasesConfig(new ConfigReader({ releases: { judge: { type: 'threshold', threshold: { metrics: [{ metric: 'errorRate', max: 0.01 }], failureLimit: 3 } } } })),
    ).toThrow('Invalid config releases.judge.threshold.failureLimit: the limits apply to every judge now; move it to releases.judge.failureLimit');
  });

  it('reads the analysis limits of any judge, with no failure tolerated and no inconclusive limit by default', () => {
    const config = readReleasesConfig(
      new ConfigReader({ releases: { judge: { type: 'fixed' }, analyses: { lenient: { type: 'kayenta', failureLimit: 2, inconclusiveLimit: 10, consecutiveErrorLimit: 4 } } } }),
    );
    expect(config.judges.limitsFor(undefined)).toEqual({ failureLimit: 0, inconclusiveLimit: undefined, consecutiveErrorLimit: undefined });
    expect(config.judges.limitsFor('lenient')).toEqual({ failureLimit: 2, inconclusiveLimit: 10, consecutiveErrorLimit: 4 });
    expect(() => readReleasesConfig(new ConfigReader({ releases: { judge: { failureLimit: -1 } } }))).toThrow(
      'Invalid config releases.judge.failureLimit: -1; it must be a number of at least 0',
    );
    expect(() => readReleasesConfig(new ConfigReader({ releases: { judge: { consecutiveErrorLimit: 0 } } }))).toThrow(
      'Invalid config releases.judge.consecutiveErrorLimit: 0; it must be a number of at least 1',
    );
  });

  it('reads named analyses for entities to pick, and validates their names', () => {
    const config = readReleasesConfig(
      new ConfigReader({ releases: { judges: { careful: { type: 'sequential', alpha: 0.001 }, simple: { type: 'fixed' } } } }),
    );
    expect(config.judges.names()).toEqual(['careful', 'simple']);
    expect(config.judges.judgeFor('simple')).toBeInstanceOf(FixedRuleJudge);
    expect(config.judges.judgeFor(undefined)).toBe(config.judges.defaultJudge);
    expect(config.judges.judgeFor('dropped')).toBe(config.judges.defaultJudge);
    expect(() => config.judges.validate('nope')).toThrow("Unknown judge 'nope'; known judges: careful, simple");
    expect(config.judges.deprecations).toEqual([]);
    expect(() => readReleasesConfig(new ConfigReader({ releases: { judges: { bad: { type: 'magic' } } } }))).toThrow(
      "Invalid config releases.judges.bad.type: 'magic'",
    );
  });

  it("still reads the deprecated releases.analyses, says so, and refuses a name under both", () => {
    const config = readReleasesConfig(new ConfigReader({ releases: { analyses: { old: { type: 'fixed' } }, judges: { careful: { type: 'sequential' } } } }));
    expect(config.judges.names()).toEqual(['careful', 'old']);
    expect(config.judges.judgeFor('old')).toBeInstanceOf(FixedRuleJudge);
    expect(config.judges.deprecations).toEqual(['releases.analyses is deprecated: rename it to releases.judges']);
    expect(() => readReleasesConfig(new ConfigReader({ releases: { analyses: { x: { type: 'fixed' } }, judges: { x: { type: 'fixed' } } } }))).toThrow(
      "Invalid config releases.analyses.x: the judge 'x' is also under releases.judges; keep one",
    );
  });

  it('refuses an unknown judge, an impossible alpha or quantile, naming the key', () => {
    const read = (judge: object) => () => readReleasesConfig(new ConfigReader({ releases: { judge } }));
    expect(read({ type: 'magic' })).toThrow("Invalid config releases.judge.type: 'magic'; use 'sequential', 'fixed', 'threshold', 'kayenta'");
    expect(read({ type: 'threshold' })).toThrow('Invalid config releases.judge.threshold.metrics: the threshold judge needs at least one metric');
    expect(read({ type: 'threshold', threshold: { metrics: [{ metric: 'cpu', max: 1 }] } })).toThrow(
      "Invalid config releases.judge.threshold.metrics[0].metric: 'cpu'; use 'errorRate' or 'p95LatencyMs'",
    );
    expect(read({ type: 'threshold', threshold: { metrics: [{ metric: 'errorRate' }] } })).toThrow(/metrics\[0\]: give a min or a max/);
    expect(read({ alpha: 0.7 })).toThrow('Invalid config releases.judge.alpha: 0.7; it must be above 0 and below 0.5');
    expect(read({ latency: { quantile: 95 } })).toThrow(/releases.judge.latency.quantile: 95/);
    expect(read({ latency: { quantiles: [0.5, 99] } })).toThrow('Invalid config releases.judge.latency.quantiles[1]: 99; it must be between 0 and 1, e.g. 0.95');
    expect(read({ latency: { quantiles: [] } })).toThrow('Invalid config releases.judge.latency.quantiles: give 1 to 5 quantiles, e.g. [0.5, 0.95, 0.99]');
    expect(read({ latency: { quantiles: [0.5], quantile: 0.9 } })).toThrow('Invalid config releases.judge.latency: give quantiles or quantile, not both');
    expect(read({ latency: { quantiles: [0.9, 0.9] } })).toThrow('Invalid config releases.judge.latency.quantiles: each quantile once');
    expect(read({ latency: { minEffectMs: -1 } })).toThrow(/releases.judge.latency.minEffectMs/);
  });

  it('judges p50, p95 and p99 by default, or the quantiles configured', () => {
    const judge = (latency?: object) =>
      (readReleasesConfig(new ConfigReader({ releases: { judge: latency ? { latency } : {} } })).judges.defaultJudge as SequentialJudge).options.latency;
    expect(judge()).toMatchObject({ quantiles: [0.5, 0.95, 0.99], minEffectMs: 10 });
    expect(judge({ quantiles: [0.9, 0.999], minEffectMs: 25 })).toMatchObject({ quantiles: [0.9, 0.999], minEffectMs: 25 });
    expect(judge({ quantile: 0.99 })).toMatchObject({ quantiles: [0.99] });
  });

  it('builds the Kayenta-mode judge with its classifier settings, refusing impossible ones', () => {
    const kayenta = readReleasesConfig(
      new ConfigReader({
        releases: {
          judge: {
            type: 'kayenta',
            kayenta: { confidenceLevel: 0.98, tolerance: 0.1, outliers: { strategy: 'remove', factor: 1.5 }, thresholds: { pass: 90, marginal: 60 } },
          },
        },
      }),
    );
    expect(kayenta.judges.defaultJudge).toBeInstanceOf(KayentaJudge);
    const read = (k: object) => () => readReleasesConfig(new ConfigReader({ releases: { judge: { type: 'kayenta', kayenta: k } } }));
    expect(read({ direction: 'up' })).toThrow("Invalid config releases.judge.kayenta.direction: 'up'; use 'increase', 'decrease', 'either'");
    expect(read({ confidenceLevel: 95 })).toThrow(/kayenta.confidenceLevel: 95/);
    expect(read({ effectSizeThresholds: [1] })).toThrow(/kayenta.effectSizeThresholds: give two numbers/);
    expect(read({ outliers: { strategy: 'trim' } })).toThrow(/kayenta.outliers.strategy: 'trim'/);
    expect(read({ thresholds: { pass: 50, marginal: 75 } })).toThrow(/need marginal <= pass <= 100/);
    expect(read({ groupWeights: { cpu: 10 } })).toThrow(/groupWeights.cpu: the groups are 'errorRate' and 'p95LatencyMs'/);
    expect(read({ groupWeights: { errorRate: 70, p95LatencyMs: 70 } })).toThrow(/add up to more than 100/);
  });

  it('reads the post-release watch', () => {
    const config = readReleasesConfig(
      new ConfigReader({
        releases: {
          watch: { threshold: 6, onAnomaly: 'alert', requestRate: { direction: 'both' }, latency: { quantile: 0.99 } },
        },
      }),
    );
    expect(config.watch).toMatchObject({ threshold: 6, onAnomaly: 'alert', requestRate: { direction: 'both', enabled: true }, latency: { quantile: 0.99 } });
    const read = (releases: object) => () => readReleasesConfig(new ConfigReader({ releases }));
    expect(read({ watch: { onAnomaly: 'page' } })).toThrow("Invalid config releases.watch.onAnomaly: 'page'; use 'rollback' or 'alert'");
    expect(read({ watch: { errorRate: { direction: 'up' } } })).toThrow("Invalid config releases.watch.errorRate.direction: 'up'; use 'higher', 'lower', 'both'");
    expect(read({ watch: { threshold: 0.5 } })).toThrow('Invalid config releases.watch.threshold: 0.5; it must be a number of at least 1');
  });

  it('reads count metrics and directions for the sequential judge, naming a bad direction', () => {
    const read = (judge: object) => () => readReleasesConfig(new ConfigReader({ releases: { judge } }));
    expect(read({ counters: { orders: { direction: 'lower', minEffect: 0.05 } }, errorRate: { direction: 'both' } })()
      .judges.defaultJudge).toBeInstanceOf(SequentialJudge);
    expect(read({ counters: { orders: { direction: 'down' } } })).toThrow(
      "Invalid config releases.judge.counters.orders.direction: 'down'; use 'higher', 'lower', 'both'",
    );
    expect(read({ counters: { 'bad-name': {} } })).toThrow(/counters.bad-name: a counter name is letters, digits and _/);
  });
});
