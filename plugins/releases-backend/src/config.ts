import { Config } from '@backstage/config';
import { DEFAULT_ENGINE_OPTIONS, DEFAULT_WATCH_OPTIONS, Direction, JudgeCatalog, PlanCatalog, readConfigNumber, WatchMetricOptions, WatchOptions } from '@release-pilot/plugin-releases-core';
import { ReleaseDriverOptions } from './driver/ReleaseDriver';
import { DEFAULT_CONCURRENCY } from './driver/TickLoop';
import { DEFAULT_RETENTION, RetentionOptions } from './database/SampleRetention';
import { DEFAULT_JUDGE_STATE_SECONDS } from './database/ReleasesStore';
import { DEFAULT_RISK_OPTIONS, RiskOptions } from './risk/RiskService';

/** The validated `releases` configuration. */
export interface ReleasesConfig {
  tickSeconds: number;
  plans: PlanCatalog;
  judges: JudgeCatalog;
  watch: WatchOptions;
  driver: ReleaseDriverOptions;
  risk: RiskOptions & { retrainHours: number };
  /** When ended releases' samples are compacted, and into what (`releases.retention`). */
  retention: RetentionOptions;
  /** On PostgreSQL, how often a tick that only measured writes the judge's state (`releases.engine.judgeStateSeconds`). */
  judgeStateSeconds: number;
  /** A demo portal's seeded history (`releases.demo.history`), off unless configured. */
  demoHistory?: { days: number; seed: number };
}


const DIRECTIONS: readonly Direction[] = ['higher', 'lower', 'both'];

/** Reads `releases.watch`: how the post-release watch judges the service against its history. */
function readWatchOptions(config: Config): WatchOptions {
  const d = DEFAULT_WATCH_OPTIONS;
  const num = (key: string, fallback: number, min: number) => readConfigNumber(config, `releases.watch.${key}`, fallback, min);
  const metric = <T extends WatchMetricOptions>(name: 'errorRate' | 'latency' | 'requestRate', fallback: T) => {
    const at = `releases.watch.${name}`;
    const direction = config.getOptionalString(`${at}.direction`) ?? fallback.direction;
    if (!DIRECTIONS.includes(direction as Direction)) {
      throw new Error(`Invalid config ${at}.direction: '${direction}'; use ${DIRECTIONS.map(x => `'${x}'`).join(', ')}`);
    }
    return {
      ...fallback,
      enabled: config.getOptionalBoolean(`${at}.enabled`) ?? fallback.enabled,
      direction: direction as Direction,
      minEffect: num(`${name}.minEffect`, fallback.minEffect, 0),
    };
  };
  const onAnomaly = config.getOptionalString('releases.watch.onAnomaly') ?? d.onAnomaly;
  if (onAnomaly !== 'rollback' && onAnomaly !== 'alert') {
    throw new Error(`Invalid config releases.watch.onAnomaly: '${onAnomaly}'; use 'rollback' or 'alert'`);
  }
  const quantile = config.getOptionalNumber('releases.watch.latency.quantile') ?? d.latency.quantile;
  if (!(quantile > 0 && quantile < 1)) {
    throw new Error(`Invalid config releases.watch.latency.quantile: ${quantile}; it must be between 0 and 1, e.g. 0.95`);
  }
  return {
    bucketSeconds: num('bucketSeconds', d.bucketSeconds, 1),
    historyDays: num('historyDays', d.historyDays, 1),
    neighbourhoodSeconds: num('neighbourhoodSeconds', d.neighbourhoodSeconds, 0),
    threshold: num('threshold', d.threshold, 1),
    forSeconds: num('forSeconds', d.forSeconds, 0),
    minRequests: num('minRequests', d.minRequests, 1),
    onAnomaly,
    errorRate: metric('errorRate', d.errorRate),
    latency: { ...metric('latency', d.latency), quantile },
    requestRate: metric('requestRate', d.requestRate),
  };
}

/** Reads `releases.risk`: the risk gate, plan shaping and training. */
function readRiskOptions(config: Config): ReleasesConfig['risk'] {
  const d = DEFAULT_RISK_OPTIONS;
  const share = (key: string, fallback: number) => {
    const value = config.getOptionalNumber(`releases.risk.${key}`) ?? fallback;
    if (!(value > 0 && value <= 1)) {
      throw new Error(`Invalid config releases.risk.${key}: ${value}; it is a probability above 0 and at most 1, e.g. 0.85`);
    }
    return value;
  };
  const teams = config.getOptionalConfig('releases.risk.teams');
  const teamThresholds: Record<string, number> = {};
  for (const team of teams?.keys() ?? []) teamThresholds[team] = share(`teams.${team}.blockThreshold`, d.blockThreshold);
  const options = {
    blockThreshold: share('blockThreshold', d.blockThreshold),
    teamThresholds,
    lowRiskBelow: share('lowRiskBelow', d.lowRiskBelow),
    highRiskAbove: share('highRiskAbove', d.highRiskAbove),
    busyTrafficRatio: readConfigNumber(config, 'releases.risk.busyTrafficRatio', d.busyTrafficRatio, 1),
    minTrainingRows: readConfigNumber(config, 'releases.risk.minTrainingRows', d.minTrainingRows, 20),
    retrainHours: readConfigNumber(config, 'releases.risk.retrainHours', 24, 1),
  };
  if (options.lowRiskBelow >= options.highRiskAbove) {
    throw new Error(`Invalid config releases.risk.lowRiskBelow: ${options.lowRiskBelow} must be below releases.risk.highRiskAbove (${options.highRiskAbove})`);
  }
  return options;
}

function readDemoHistory(config: Config): ReleasesConfig['demoHistory'] {
  const days = readConfigNumber(config, 'releases.demo.history.days', 0, 0);
  if (days === 0) return undefined;
  return { days, seed: readConfigNumber(config, 'releases.demo.history.seed', 1, 0) };
}

function readWholeNumber(config: Config, key: string, fallback: number): number {
  const value = readConfigNumber(config, key, fallback, 1);
  if (!Number.isInteger(value)) throw new Error(`Invalid config ${key}: ${value}; it must be a whole number of at least 1`);
  return value;
}

/** Reads `releases.*` from app-config, failing at start-up with a message that names the bad key. */
export function readReleasesConfig(config: Config): ReleasesConfig {
  const tickSeconds = readConfigNumber(config, 'releases.engine.tickSeconds', 5, 1);
  return {
    tickSeconds,
    plans: PlanCatalog.fromConfig(config),
    judges: JudgeCatalog.fromConfig(config),
    watch: readWatchOptions(config),
    risk: readRiskOptions(config),
    demoHistory: readDemoHistory(config),
    retention: {
      compactAfterMinutes: readConfigNumber(config, 'releases.retention.compactAfterMinutes', DEFAULT_RETENTION.compactAfterMinutes, 0),
      sampleBucketSeconds: readConfigNumber(config, 'releases.retention.sampleBucketSeconds', DEFAULT_RETENTION.sampleBucketSeconds, 1),
    },
    judgeStateSeconds: readConfigNumber(config, 'releases.engine.judgeStateSeconds', DEFAULT_JUDGE_STATE_SECONDS, 0),
    driver: {
      analysisWindowSeconds: readConfigNumber(config, 'releases.judge.windowSeconds', 30, 1),
      // Renewed on a timer (three times per lease); when a replica dies another takes its releases over one lease later.
      leaseSeconds: readConfigNumber(config, 'releases.engine.leaseSeconds', Math.max(2, tickSeconds * 2), tickSeconds),
      concurrency: {
        releases: readWholeNumber(config, 'releases.engine.concurrency', DEFAULT_CONCURRENCY.releases),
        perTarget: readWholeNumber(config, 'releases.engine.concurrencyPerTarget', DEFAULT_CONCURRENCY.perTarget),
      },
      providerTimeoutSeconds: readConfigNumber(config, 'releases.engine.providerTimeoutSeconds', 10, 0.1),
      engine: {
        maxConsecutiveProviderErrors: readConfigNumber(
          config,
          'releases.engine.maxConsecutiveProviderErrors',
          DEFAULT_ENGINE_OPTIONS.maxConsecutiveProviderErrors,
          1,
        ),
      },
    },
  };
}
