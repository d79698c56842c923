import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { DEFAULT_FIXED_RULE_OPTIONS, FixedRuleJudge } from './FixedRuleJudge';
import { Judge } from './judge';
import { DEFAULT_SEQUENTIAL_OPTIONS, SequentialJudge } from './sequential/SequentialJudge';
import { ThresholdJudge, ThresholdJudgeOptions, ThresholdMetric } from './ThresholdJudge';

/** Reads a number at `key`, falling back and enforcing a minimum; throws naming the key. */
type NumberReader = (key: string, fallback: number, min: number) => number;

/** Reads `${key}.threshold`: bounds per metric and the failure and inconclusive limits. */
function readThresholds(config: Config, key: string, num: NumberReader): ThresholdJudgeOptions {
  const at = `${key}.threshold`;
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
    failureLimit: num(`${at}.failureLimit`, 3, 0),
    inconclusiveLimit: num(`${at}.inconclusiveLimit`, 30, 0),
    minRequests: num(`${at}.minRequests`, 10, 1),
  };
}

/** Builds the judge an analysis at `key` (`releases.judge` or `releases.analyses.<name>`) describes. */
function readJudge(config: Config, key: string, num: NumberReader): Judge {
  const type = config.getOptionalString(`${key}.type`) ?? 'sequential';
  if (!['sequential', 'fixed', 'threshold'].includes(type)) {
    throw new Error(`Invalid config ${key}.type: '${type}'; use 'sequential', 'fixed' or 'threshold'`);
  }
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
  const metric = (name: 'errorRate' | 'latency') => ({
    minEffect: num(`${key}.${name}.minEffect`, DEFAULT_SEQUENTIAL_OPTIONS[name].minEffect, 0),
    critical: config.getOptionalBoolean(`${key}.${name}.critical`) ?? true,
  });
  const quantile = config.getOptionalNumber(`${key}.latency.quantile`) ?? DEFAULT_SEQUENTIAL_OPTIONS.latency.quantile;
  if (!(quantile > 0 && quantile < 1)) {
    throw new Error(`Invalid config ${key}.latency.quantile: ${quantile}; it must be between 0 and 1, e.g. 0.95`);
  }
  return new SequentialJudge({ alpha, minRequests, errorRate: metric('errorRate'), latency: { ...metric('latency'), quantile } });
}

/**
 * The judges a release can use: the default from `releases.judge`, and named analyses from
 * `releases.analyses` that an entity picks with the `release-pilot.io/analysis` annotation.
 */
export class JudgeCatalog {
  private constructor(
    readonly defaultJudge: Judge,
    private readonly named: Map<string, Judge>,
  ) {}

  /** One judge for everything (tests, simulations). */
  static of(judge: Judge): JudgeCatalog {
    return new JudgeCatalog(judge, new Map());
  }

  /** Reads and validates `releases.judge` and `releases.analyses`; throws naming the bad key. */
  static fromConfig(config: Config, num: NumberReader): JudgeCatalog {
    const named = new Map<string, Judge>();
    for (const name of config.getOptionalConfig('releases.analyses')?.keys() ?? []) {
      named.set(name, readJudge(config, `releases.analyses.${name}`, num));
    }
    return new JudgeCatalog(readJudge(config, 'releases.judge', num), named);
  }

  names(): string[] {
    return [...this.named.keys()].sort();
  }

  /** Refuses an analysis name config does not define (HTTP 400 when a release is created). */
  validate(name: string | undefined): void {
    if (name !== undefined && !this.named.has(name)) {
      throw new InputError(
        `Unknown analysis '${name}'; known analyses: ${this.names().join(', ') || 'none (define them under releases.analyses)'}`,
      );
    }
  }

  /** The judge of a release: its named analysis, else the default (also when config dropped the name). */
  judgeFor(name: string | undefined): Judge {
    return (name !== undefined && this.named.get(name)) || this.defaultJudge;
  }
}
