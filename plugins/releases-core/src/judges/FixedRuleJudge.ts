import {
  errorRate,
  histogramQuantile,
  MetricEvidence,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { CanaryBaseline, Judge, JudgeInput, JudgeResult } from './judge';

/** Thresholds of the fixed-rule judge. */
export interface FixedRuleJudgeOptions {
  /** Fail when the canary error rate exceeds this multiple of the baseline's... */
  errorRateFailRatio: number;
  /** ...and the canary has at least this many errors. */
  minCanaryErrors: number;
  /** Fail when the canary p95 latency exceeds this multiple of the baseline's. */
  p95FailRatio: number;
  /** Pause and ask a person when the canary p95 latency exceeds this multiple. */
  p95WarnRatio: number;
  /** Fewer requests than this on either side is inconclusive. */
  minRequests: number;
}

/** The thresholds the foundation issue specifies. */
export const DEFAULT_FIXED_RULE_OPTIONS: FixedRuleJudgeOptions = {
  errorRateFailRatio: 1.5,
  minCanaryErrors: 10,
  p95FailRatio: 2,
  p95WarnRatio: 1.3,
  minRequests: 50,
};

const SEVERITY: Record<VerdictOutcome, number> = {
  pass: 0,
  inconclusive: 1,
  warn: 2,
  fail: 3,
};

function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}

function formatMs(ms: number): string {
  return `${Math.round(ms).toLocaleString('en-US')} ms`;
}

function formatRatio(canary: number, baseline: number): string {
  if (baseline === 0) return canary === 0 ? '1.0x' : 'inf x';
  return `${(canary / baseline).toFixed(1)}x`;
}

/**
 * The first judge: compares canary and baseline error rate and p95 latency with fixed ratios.
 * Re-testing at every tick has no false-alarm guarantee; the statistical judge replaces it.
 */
export class FixedRuleJudge implements Judge {
  constructor(
    private readonly options: FixedRuleJudgeOptions = DEFAULT_FIXED_RULE_OPTIONS,
  ) {}

  judge({ window, now }: JudgeInput): JudgeResult {
    return { verdict: this.judgeWindow(window, now) };
  }

  /** The verdict on one window of canary and baseline statistics. */
  judgeWindow({ canary, baseline }: CanaryBaseline, now: Date): Verdict {
    const evidence = [this.judgeErrorRate(canary, baseline), this.judgeP95(canary, baseline)];
    const worst = evidence.reduce((a, b) =>
      SEVERITY[b.outcome] > SEVERITY[a.outcome] ? b : a,
    );
    return {
      at: now.toISOString(),
      outcome: worst.outcome,
      summary: this.summarize(worst),
      evidence,
    };
  }

  private enoughData(canary: CanaryBaseline['canary'], baseline: CanaryBaseline['baseline']) {
    return (
      canary.requests >= this.options.minRequests &&
      baseline.requests >= this.options.minRequests
    );
  }

  private judgeErrorRate(
    canary: CanaryBaseline['canary'],
    baseline: CanaryBaseline['baseline'],
  ): MetricEvidence {
    const { errorRateFailRatio, minCanaryErrors, minRequests } = this.options;
    const canaryRate = errorRate(canary);
    const baselineRate = errorRate(baseline);
    const common = {
      metric: 'errorRate' as const,
      canary: canaryRate,
      baseline: baselineRate,
      canaryRequests: canary.requests,
      baselineRequests: baseline.requests,
    };
    if (!this.enoughData(canary, baseline)) {
      return { ...common, outcome: 'inconclusive', rule: `fewer than ${minRequests} requests on a side` };
    }
    const failing =
      canaryRate > errorRateFailRatio * baselineRate && canary.errors >= minCanaryErrors;
    return {
      ...common,
      outcome: failing ? 'fail' : 'pass',
      rule: `fail when canary error rate > ${errorRateFailRatio}x baseline with at least ${minCanaryErrors} errors (canary has ${canary.errors})`,
    };
  }

  private judgeP95(
    canary: CanaryBaseline['canary'],
    baseline: CanaryBaseline['baseline'],
  ): MetricEvidence {
    const { p95FailRatio, p95WarnRatio, minRequests } = this.options;
    const canaryP95 = histogramQuantile(canary.latency, 0.95);
    const baselineP95 = histogramQuantile(baseline.latency, 0.95);
    const common = {
      metric: 'p95LatencyMs' as const,
      canary: canaryP95,
      baseline: baselineP95,
      canaryRequests: canary.requests,
      baselineRequests: baseline.requests,
    };
    if (!this.enoughData(canary, baseline)) {
      return { ...common, outcome: 'inconclusive', rule: `fewer than ${minRequests} requests on a side` };
    }
    let outcome: VerdictOutcome = 'pass';
    if (canaryP95 > p95FailRatio * baselineP95) outcome = 'fail';
    else if (canaryP95 > p95WarnRatio * baselineP95) outcome = 'warn';
    return {
      ...common,
      outcome,
      rule: `fail when canary p95 > ${p95FailRatio}x baseline, warn when > ${p95WarnRatio}x`,
    };
  }

  private summarize(evidence: MetricEvidence): string {
    const { metric, outcome, canary, baseline } = evidence;
    if (outcome === 'inconclusive') {
      return `Not enough traffic yet (${evidence.canaryRequests} canary, ${evidence.baselineRequests} baseline requests)`;
    }
    const ratio = formatRatio(canary, baseline);
    const values =
      metric === 'errorRate'
        ? `error rate ${formatPercent(canary)} vs ${formatPercent(baseline)} baseline (${ratio})`
        : `p95 latency ${formatMs(canary)} vs ${formatMs(baseline)} baseline (${ratio})`;
    if (outcome === 'pass') return `Canary healthy: ${values}`;
    return values.charAt(0).toUpperCase() + values.slice(1);
  }
}
