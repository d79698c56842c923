import { Config } from '@backstage/config';
import { JudgeCatalog } from './analysis/JudgeCatalog';
import { ReleaseDriverOptions } from './driver/ReleaseDriver';
import { DEFAULT_ENGINE_OPTIONS } from './engine/engine';
import { PlanCatalog } from './engine/plans';

/** The validated `releases` configuration. */
export interface ReleasesConfig {
  tickSeconds: number;
  plans: PlanCatalog;
  judges: JudgeCatalog;
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
  return {
    tickSeconds,
    plans: PlanCatalog.fromConfig(config),
    judges: JudgeCatalog.fromConfig(config, (key, fallback, min) => positiveNumber(config, key, fallback, min)),
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
