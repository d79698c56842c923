import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { readConfigNumber } from '../configNumber';
import { DEFAULT_FIXED_RULE_OPTIONS, FixedRuleJudge } from './FixedRuleJudge';
import { AnalysisLimits, DEFAULT_ANALYSIS_LIMITS } from '../engine/analysis';
import { Judge } from './judge';
import { DEFAULT_KAYENTA_METRIC, KayentaMetricSettings } from './kayenta/classifier';
import { DEFAULT_KAYENTA_OPTIONS, KayentaJudge } from './kayenta/KayentaJudge';
import { DEFAULT_SEQUENTIAL_OPTIONS, SequentialJudge } from './sequential/SequentialJudge';
import { ThresholdJudge, ThresholdJudgeOptions, ThresholdMetric } from './ThresholdJudge';

/** Reads a number at `key`, falling back and enforcing a minimum; throws naming the key. */
type NumberReader = (key: string, fallback: number, min: number) => number;

/** Reads `${key}.threshold`: bounds per metric. */
function readThresholds(config: Config, key: string, num: NumberReader): ThresholdJudgeOptions {
  const at = `${key}.threshold`;
  for (const moved of ['failureLimit', 'inconclusiveLimit']) {
    if (config.has(`${at}.${moved}`)) {
      throw new Error(`Invalid config ${at}.${moved}: the limits apply to every judge now; move it to ${key}.${moved}`);
    }
  }
  const metrics = (config.getOptionalConfigArray(`${at}.metrics`) ?? []).map((m, i) => {
    const metric = m.getString('metric');
    if (metric !== 'errorRate' && metric !== 'p95LatencyMs') {
      throw new Error(`Invalid config ${at}.metrics[${i}].metric: '${metric}'; use 'errorRate' or 'p95LatencyMs'`);
    }
    const min = m.getOptionalNumber('min');
    const max = m.getOptionalNumber('max');
    if (min === undefined && max === undefined) {
      throw new Error(`Invalid config ${at}.metrics[${i}]: give a min or a max`);
    }
    return { metric: metric as ThresholdMetric['metric'], min, max };
  });
  if (metrics.length === 0) {
    throw new Error(`Invalid config ${at}.metrics: the threshold judge needs at least one metric`);
  }
  return {
    metrics,
    minRequests: num(`${at}.minRequests`, 10, 1),
  };
}

/** Reads one of a closed set of strings at `key`, naming the choices when it is something else. */
function oneOf<T extends string>(config: Config, key: string, choices: readonly T[], fallback: T): T {
  const value = config.getOptionalString(key) ?? fallback;
  if (!choices.includes(value as T)) {
    throw new Error(`Invalid config ${key}: '${value}'; use ${choices.map(c => `'${c}'`).join(', ')}`);
  }
  return value as T;
}

/** Reads a [decrease, increase] pair of numbers at `key`. */
function pair(config: Config, key: string, fallback: [number, number]): [number, number] {
  const value = config.getOptional(key) ?? fallback;
  if (!Array.isArray(value) || value.length !== 2 || !value.every(v => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`Invalid config ${key}: give two numbers, [allowed decrease, allowed increase], e.g. [1, 1]`);
  }
  return value as [number, number];
}

/** Reads `${key}.kayenta`: Kayenta's Mann-Whitney classifier settings and its score thresholds. */
function readKayenta(config: Config, key: string, num: NumberReader): KayentaJudge {
  const at = `${key}.kayenta`;
  const d = { ...DEFAULT_KAYENTA_METRIC, ...DEFAULT_KAYENTA_OPTIONS.metric };
  const confidenceLevel = config.getOptionalNumber(`${at}.confidenceLevel`) ?? d.confidenceLevel;
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new Error(`Invalid config ${at}.confidenceLevel: ${confidenceLevel}; it must be between 0 and 1, e.g. 0.95`);
  }
  const metric: KayentaMetricSettings = {
    direction: oneOf(config, `${at}.direction`, ['increase', 'decrease', 'either'], d.direction),
    nanStrategy: oneOf(config, `${at}.nanStrategy`, ['remove', 'replace'], d.nanStrategy),
    critical: config.getOptionalBoolean(`${at}.critical`) ?? d.critical,
    dataRequired: config.getOptionalBoolean(`${at}.dataRequired`) ?? d.dataRequired,
    tolerance: num(`${at}.tolerance`, d.tolerance, 0),
    confidenceLevel,
    effectSizeMeasure: oneOf(config, `${at}.effectSizeMeasure`, ['meanRatio', 'cles'], d.effectSizeMeasure),
    effectSizeThresholds: pair(config, `${at}.effectSizeThresholds`, d.effectSizeThresholds),
    criticalThresholds: pair(config, `${at}.criticalThresholds`, d.criticalThresholds),
    outliers: {
      strategy: oneOf(config, `${at}.outliers.strategy`, ['keep', 'remove'], d.outliers.strategy),
      factor: num(`${at}.outliers.factor`, d.outliers.factor, 0),
    },
  };
  const pass = num(`${at}.thresholds.pass`, DEFAULT_KAYENTA_OPTIONS.thresholds.pass, 0);
  const marginal = num(`${at}.thresholds.marginal`, DEFAULT_KAYENTA_OPTIONS.thresholds.marginal, 0);
  if (!(pass <= 100 && marginal <= pass)) {
    throw new Error(`Invalid config ${at}.thresholds: need marginal <= pass <= 100, got marginal ${marginal}, pass ${pass}`);
  }
  const groupWeights: Record<string, number> = {};
  for (const group of config.getOptionalConfig(`${at}.groupWeights`)?.keys() ?? []) {
    if (group !== 'errorRate' && group !== 'p95LatencyMs') {
      throw new Error(`Invalid config ${at}.groupWeights.${group}: the groups are 'errorRate' and 'p95LatencyMs'`);
    }
    groupWeights[group] = num(`${at}.groupWeights.${group}`, 0, 0);
  }
  if (Object.values(groupWeights).reduce((a, b) => a + b, 0) > 100) {
    throw new Error(`Invalid config ${at}.groupWeights: the weights are percent and add up to more than 100`);
  }
  return new KayentaJudge({
    groupWeights,
    windowTicks: num(`${at}.windowTicks`, DEFAULT_KAYENTA_OPTIONS.windowTicks, 2),
    minPoints: num(`${at}.minPoints`, DEFAULT_KAYENTA_OPTIONS.minPoints, 1),
    metric,
    thresholds: { pass, marginal },
  });
}

const JUDGE_TYPES = ['sequential', 'fixed', 'threshold', 'kayenta'] as const;

/** Builds the judge at `key` (`releases.judge` or `releases.judges.<name>`) describes. */
function readJudge(config: Config, key: string, num: NumberReader): Judge {
  const type = oneOf(config, `${key}.type`, JUDGE_TYPES, 'sequential');
  if (type === 'kayenta') return readKayenta(config, key, num);
  const minRequests = num(`${key}.minRequests`, DEFAULT_FIXED_RULE_OPTIONS.minRequests, 1);
  if (type === 'fixed') {
    return new FixedRuleJudge({
      errorRateFailRatio: num(`${key}.errorRateFailRatio`, DEFAULT_FIXED_RULE_OPTIONS.errorRateFailRatio, 1),
      minCanaryErrors: num(`${key}.minCanaryErrors`, DEFAULT_FIXED_RULE_OPTIONS.minCanaryErrors, 0),
      p95FailRatio: num(`${key}.p95FailRatio`, DEFAULT_FIXED_RULE_OPTIONS.p95FailRatio, 1),
      p95WarnRatio: num(`${key}.p95WarnRatio`, DEFAULT_FIXED_RULE_OPTIONS.p95WarnRatio, 1),
      minRequests,
    });
  }
  if (type === 'threshold') return new ThresholdJudge(readThresholds(config, key, num));
  const alpha = config.getOptionalNumber(`${key}.alpha`) ?? DEFAULT_SEQUENTIAL_OPTIONS.alpha;
  if (!(alpha > 0 && alpha < 0.5)) {
    throw new Error(`Invalid config ${key}.alpha: ${alpha}; it must be above 0 and below 0.5`);
  }
  const metric = (at: string, minEffect: number) => ({
    minEffect: num(`${at}.minEffect`, minEffect, 0),
    critical: config.getOptionalBoolean(`${at}.critical`) ?? true,
    direction: oneOf(config, `${at}.direction`, ['higher', 'lower', 'both'], 'higher'),
  });
  const counters = Object.fromEntries(
    (config.getOptionalConfig(`${key}.counters`)?.keys() ?? []).map(name => {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`Invalid config ${key}.counters.${name}: a counter name is letters, digits and _`);
      }
      return [name, metric(`${key}.counters.${name}`, 0.1)];
    }),
  );
  // `latency.quantiles` (several), or the older `latency.quantile` (one).
  const single = config.getOptionalNumber(`${key}.latency.quantile`);
  const listed = config.has(`${key}.latency.quantiles`) ? config.get(`${key}.latency.quantiles`) : undefined;
  if (listed !== undefined && single !== undefined) {
    throw new Error(`Invalid config ${key}.latency: give quantiles or quantile, not both`);
  }
  if (listed !== undefined && (!Array.isArray(listed) || listed.length === 0 || listed.length > 5)) {
    throw new Error(`Invalid config ${key}.latency.quantiles: give 1 to 5 quantiles, e.g. [0.5, 0.95, 0.99]`);
  }
  const quantiles = (listed as unknown[] | undefined) ?? (single !== undefined ? [single] : DEFAULT_SEQUENTIAL_OPTIONS.latency.quantiles);
  quantiles.forEach((quantile, i) => {
    if (typeof quantile !== 'number' || !(quantile > 0 && quantile < 1)) {
      const at = listed !== undefined ? `${key}.latency.quantiles[${i}]` : `${key}.latency.quantile`;
      throw new Error(`Invalid config ${at}: ${String(quantile)}; it must be between 0 and 1, e.g. 0.95`);
    }
  });
  if (new Set(quantiles).size !== quantiles.length) {
    throw new Error(`Invalid config ${key}.latency.quantiles: each quantile once`);
  }
  return new SequentialJudge({
    alpha,
    minRequests,
    errorRate: metric(`${key}.errorRate`, DEFAULT_SEQUENTIAL_OPTIONS.errorRate.minEffect),
    latency: {
      ...metric(`${key}.latency`, DEFAULT_SEQUENTIAL_OPTIONS.latency.minEffect),
      quantiles: quantiles as number[],
      minEffectMs: num(`${key}.latency.minEffectMs`, DEFAULT_SEQUENTIAL_OPTIONS.latency.minEffectMs!, 0),
    },
    counters,
    compareCanaryAlone: config.getOptionalBoolean(`${key}.compareCanaryAlone`) ?? true,
  });
}

/**
 * Reads an analysis's limits at `key`: Argo Rollouts' `failureLimit`, `inconclusiveLimit` and
 * `consecutiveErrorLimit`, the same for every judge (the engine applies them).
 */
function readLimits(config: Config, key: string, num: NumberReader): AnalysisLimits {
  const optional = (name: string) => (config.has(`${key}.${name}`) ? num(`${key}.${name}`, 0, name === 'consecutiveErrorLimit' ? 1 : 0) : undefined);
  return {
    failureLimit: optional('failureLimit') ?? DEFAULT_ANALYSIS_LIMITS.failureLimit,
    inconclusiveLimit: optional('inconclusiveLimit'),
    consecutiveErrorLimit: optional('consecutiveErrorLimit'),
  };
}

/** A judge and the limits its measurements are counted against. */
interface Analysis {
  judge: Judge;
  limits: AnalysisLimits;
}

function readAnalysis(config: Config, key: string, num: NumberReader): Analysis {
  return { judge: readJudge(config, key, num), limits: readLimits(config, key, num) };
}

/**
 * The judges a release can use: the default from `releases.judge`, and named judges from
 * `releases.judges` that an entity picks with the `release-pilot.io/judge` annotation. (The old
 * names, `releases.analyses` and `release-pilot.io/analysis`, still work, with a warning.)
 */
export class JudgeCatalog {
  private constructor(
    private readonly defaultAnalysis: Analysis,
    private readonly named: Map<string, Analysis>,
    /** Deprecated config keys in use, each with its replacement, for the backend to log at start-up. */
    readonly deprecations: string[] = [],
  ) {}

  /** One judge for everything (tests, simulations). */
  static of(judge: Judge, limits: AnalysisLimits = DEFAULT_ANALYSIS_LIMITS): JudgeCatalog {
    return new JudgeCatalog({ judge, limits }, new Map());
  }

  /** Reads and validates `releases.judge` and `releases.judges` (or the deprecated `releases.analyses`); throws naming the bad key. */
  static fromConfig(config: Config, num: NumberReader = (key, fallback, min) => readConfigNumber(config, key, fallback, min)): JudgeCatalog {
    const named = new Map<string, Analysis>();
    const deprecations: string[] = [];
    for (const block of ['releases.judges', 'releases.analyses']) {
      for (const name of config.getOptionalConfig(block)?.keys() ?? []) {
        if (named.has(name)) throw new Error(`Invalid config ${block}.${name}: the judge '${name}' is also under releases.judges; keep one`);
        named.set(name, readAnalysis(config, `${block}.${name}`, num));
      }
    }
    if (config.has('releases.analyses')) deprecations.push('releases.analyses is deprecated: rename it to releases.judges');
    return new JudgeCatalog(readAnalysis(config, 'releases.judge', num), named, deprecations);
  }

  get defaultJudge(): Judge {
    return this.defaultAnalysis.judge;
  }

  names(): string[] {
    return [...this.named.keys()].sort();
  }

  /** Fails start-up when a config key (e.g. a target's `judge`) names a judge there is none of. */
  assertConfigured(name: string, key: string): void {
    if (!this.named.has(name)) {
      throw new Error(`Invalid config ${key}: no judge '${name}' under releases.judges; known: ${this.names().join(', ') || 'none'}`);
    }
  }

  /** Refuses a judge name config does not define (HTTP 400 when a release is created). */
  validate(name: string | undefined): void {
    if (name !== undefined && !this.named.has(name)) {
      throw new InputError(
        `Unknown judge '${name}'; known judges: ${this.names().join(', ') || 'none (define them under releases.judges)'}`,
      );
    }
  }

  private analysisFor(name: string | undefined): Analysis {
    return (name !== undefined && this.named.get(name)) || this.defaultAnalysis;
  }

  /** The judge of a release: its named analysis, else the default (also when config dropped the name). */
  judgeFor(name: string | undefined): Judge {
    return this.analysisFor(name).judge;
  }

  /** The limits the engine counts the release's measurements against. */
  limitsFor(name: string | undefined): AnalysisLimits {
    return this.analysisFor(name).limits;
  }
}
