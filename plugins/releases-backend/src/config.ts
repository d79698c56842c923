import { Config } from '@backstage/config';
import {
  DEFAULT_FIXED_RULE_OPTIONS,
  FixedRuleJudge,
  FixedRuleJudgeOptions,
} from './analysis/FixedRuleJudge';
import { Judge } from './analysis/judge';
import {
  ThresholdJudge,
  ThresholdJudgeOptions,
  ThresholdMetric,
} from './analysis/ThresholdJudge';
import {
  DEFAULT_SEQUENTIAL_OPTIONS,
  SequentialJudge,
} from './analysis/sequential/SequentialJudge';
import { ReleaseDriverOptions } from './driver/ReleaseDriver';
import { DEFAULT_ENGINE_OPTIONS } from './engine/engine';
import { PlanCatalog } from './engine/plans';

/** The validated `releases` configuration. */
export interface ReleasesConfig {
  tickSeconds: number;
  plans: PlanCatalog;
  judge: Judge;
  driver: ReleaseDriverOptions;
}

function positiveNumber(
  config: Config,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`Invalid config ${key}: ${value}; it must be a number of at least ${min}`);
  }
  return value;
}

/** Reads `releases.judge.threshold`: bounds per metric and the failure and inconclusive limits. */
function readThresholds(config: Config): ThresholdJudgeOptions {
  const key = 'releases.judge.threshold';
  const metrics = (config.getOptionalConfigArray(`${key}.metrics`) ?? []).map((m, i) => {
    const metric = m.getString('metric');
    if (metric !== 'errorRate' && metric !== 'p95LatencyMs') {
      throw new Error(`Invalid config ${key}.metrics[${i}].metric: '${metric}'; use 'errorRate' or 'p95LatencyMs'`);
    }
    const min = m.getOptionalNumber('min');
    const max = m.getOptionalNumber('max');
    if (min === undefined && max === undefined) {
      throw new Error(`Invalid config ${key}.metrics[${i}]: give a min or a max`);
    }
    return { metric: metric as ThresholdMetric['metric'], min, max };
  });
  if (metrics.length === 0) {
    throw new Error(`Invalid config ${key}.metrics: the threshold judge needs at least one metric`);
  }
  return {
    metrics,
    failureLimit: positiveNumber(config, `${key}.failureLimit`, 3, 0),
    inconclusiveLimit: positiveNumber(config, `${key}.inconclusiveLimit`, 30, 0),
    minRequests: positiveNumber(config, `${key}.minRequests`, 10, 1),
  };
}

/** Reads `releases.*` from app-config, failing at start-up with a message that names the bad key. */
export function readReleasesConfig(config: Config): ReleasesConfig {
  const tickSeconds = positiveNumber(config, 'releases.engine.tickSeconds', 5, 1);
  const judgeType = config.getOptionalString('releases.judge.type') ?? 'sequential';
  if (!['sequential', 'fixed', 'threshold'].includes(judgeType)) {
    throw new Error(`Invalid config releases.judge.type: '${judgeType}'; use 'sequential', 'fixed' or 'threshold'`);
  }
  const fixed: FixedRuleJudgeOptions = {
    errorRateFailRatio: positiveNumber(config, 'releases.judge.errorRateFailRatio', DEFAULT_FIXED_RULE_OPTIONS.errorRateFailRatio, 1),
    minCanaryErrors: positiveNumber(config, 'releases.judge.minCanaryErrors', DEFAULT_FIXED_RULE_OPTIONS.minCanaryErrors, 0),
    p95FailRatio: positiveNumber(config, 'releases.judge.p95FailRatio', DEFAULT_FIXED_RULE_OPTIONS.p95FailRatio, 1),
    p95WarnRatio: positiveNumber(config, 'releases.judge.p95WarnRatio', DEFAULT_FIXED_RULE_OPTIONS.p95WarnRatio, 1),
    minRequests: positiveNumber(config, 'releases.judge.minRequests', DEFAULT_FIXED_RULE_OPTIONS.minRequests, 1),
  };
  const alpha = config.getOptionalNumber('releases.judge.alpha') ?? DEFAULT_SEQUENTIAL_OPTIONS.alpha;
  if (!(alpha > 0 && alpha < 0.5)) {
    throw new Error(`Invalid config releases.judge.alpha: ${alpha}; it must be above 0 and below 0.5`);
  }
  const metric = (key: 'errorRate' | 'latency') => ({
    minEffect: positiveNumber(config, `releases.judge.${key}.minEffect`, DEFAULT_SEQUENTIAL_OPTIONS[key].minEffect, 0),
    critical: config.getOptionalBoolean(`releases.judge.${key}.critical`) ?? true,
  });
  const quantile = config.getOptionalNumber('releases.judge.latency.quantile') ?? DEFAULT_SEQUENTIAL_OPTIONS.latency.quantile;
  if (!(quantile > 0 && quantile < 1)) {
    throw new Error(`Invalid config releases.judge.latency.quantile: ${quantile}; it must be between 0 and 1, e.g. 0.95`);
  }
  let judge: Judge;
  if (judgeType === 'fixed') judge = new FixedRuleJudge(fixed);
  else if (judgeType === 'threshold') judge = new ThresholdJudge(readThresholds(config));
  else {
    judge = new SequentialJudge({
      alpha,
      minRequests: fixed.minRequests,
      errorRate: metric('errorRate'),
      latency: { ...metric('latency'), quantile },
    });
  }
  return {
    tickSeconds,
    plans: PlanCatalog.fromConfig(config),
    judge,
    driver: {
      analysisWindowSeconds: positiveNumber(config, 'releases.judge.windowSeconds', 30, 1),
      leaseSeconds: Math.max(10, tickSeconds * 5),
      engine: {
        maxConsecutiveProviderErrors: positiveNumber(
          config,
          'releases.engine.maxConsecutiveProviderErrors',
          DEFAULT_ENGINE_OPTIONS.maxConsecutiveProviderErrors,
          1,
        ),
      },
    },
  };
}
