import { Config } from '@backstage/config';
import {
  DEFAULT_FIXED_RULE_OPTIONS,
  FixedRuleJudgeOptions,
} from './analysis/FixedRuleJudge';
import { ReleaseDriverOptions } from './driver/ReleaseDriver';
import { DEFAULT_ENGINE_OPTIONS } from './engine/engine';
import { PlanCatalog } from './engine/plans';

/** The validated `releases` configuration. */
export interface ReleasesConfig {
  tickSeconds: number;
  plans: PlanCatalog;
  judge: FixedRuleJudgeOptions;
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

/** Reads `releases.*` from app-config, failing at start-up with a message that names the bad key. */
export function readReleasesConfig(config: Config): ReleasesConfig {
  const tickSeconds = positiveNumber(config, 'releases.engine.tickSeconds', 5, 1);
  const judge: FixedRuleJudgeOptions = {
    errorRateFailRatio: positiveNumber(config, 'releases.judge.errorRateFailRatio', DEFAULT_FIXED_RULE_OPTIONS.errorRateFailRatio, 1),
    minCanaryErrors: positiveNumber(config, 'releases.judge.minCanaryErrors', DEFAULT_FIXED_RULE_OPTIONS.minCanaryErrors, 0),
    p95FailRatio: positiveNumber(config, 'releases.judge.p95FailRatio', DEFAULT_FIXED_RULE_OPTIONS.p95FailRatio, 1),
    p95WarnRatio: positiveNumber(config, 'releases.judge.p95WarnRatio', DEFAULT_FIXED_RULE_OPTIONS.p95WarnRatio, 1),
    minRequests: positiveNumber(config, 'releases.judge.minRequests', DEFAULT_FIXED_RULE_OPTIONS.minRequests, 1),
  };
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
