import {
  errorRate,
  histogramQuantile,
  MetricEvidence,
  MetricName,
  TrafficStats,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { Judge, JudgeInput, JudgeResult } from './judge';

/** A bound on the canary's own value of a metric, measured every tick. */
export interface ThresholdMetric {
  metric: MetricName;
  /** The measurement fails above this (e.g. errorRate 0.01, p95LatencyMs 500). */
  max?: number;
  /** The measurement fails below this. */
  min?: number;
}

/** Settings of the threshold judge, as Argo Rollouts and Flagger users know them. */
export interface ThresholdJudgeOptions {
  metrics: ThresholdMetric[];
  /** A tick with fewer canary requests is an inconclusive measurement. */
  minRequests: number;
}

function measure(metric: MetricName, stats: TrafficStats): number {
  return metric === 'errorRate' ? errorRate(stats) : histogramQuantile(stats.latency, 0.95);
}

function describeBound(m: ThresholdMetric): string {
  const parts = [];
  if (m.min !== undefined) parts.push(`>= ${m.min}`);
  if (m.max !== undefined) parts.push(`<= ${m.max}`);
  return `${m.metric} ${parts.join(' and ')}`;
}

/**
 * The threshold judge: each tick measures the canary's own error rate and p95 latency against fixed
 * bounds, like an Argo Rollouts AnalysisTemplate's `successCondition`. A broken bound is a failed
 * measurement; the analysis's `failureLimit` and `inconclusiveLimit` (applied by the engine, as for
 * every judge) decide what the count of them does. No statistics and no baseline comparison.
 */
export class ThresholdJudge implements Judge {
  constructor(private readonly options: ThresholdJudgeOptions) {
    if (options.metrics.length === 0) throw new Error('The threshold judge needs at least one metric');
    for (const m of options.metrics) {
      if (m.min === undefined && m.max === undefined) {
        throw new Error(`Threshold for ${m.metric} needs a min or a max`);
      }
    }
  }

  judge({ sample, now }: JudgeInput): JudgeResult {
    const enough = sample.canary.requests >= this.options.minRequests;
    const evidence: MetricEvidence[] = this.options.metrics.map(m => {
      const value = measure(m.metric, sample.canary);
      let outcome: VerdictOutcome = 'pass';
      if (!enough || !Number.isFinite(value)) outcome = 'inconclusive';
      else if ((m.max !== undefined && value > m.max) || (m.min !== undefined && value < m.min)) outcome = 'fail';
      return {
        metric: m.metric,
        outcome,
        canary: value,
        baseline: measure(m.metric, sample.baseline),
        canaryRequests: sample.canary.requests,
        baselineRequests: sample.baseline.requests,
        rule: describeBound(m),
      };
    });
    const severity: Record<VerdictOutcome, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };
    const worst = evidence.reduce((a, b) => (severity[b.outcome] > severity[a.outcome] ? b : a));
    let summary = `All ${evidence.length} thresholds held`;
    if (worst.outcome === 'fail') summary = `Threshold broken: ${worst.rule} (canary ${formatValue(worst.metric, worst.canary)})`;
    else if (worst.outcome === 'inconclusive') summary = `Not enough traffic yet (${sample.canary.requests} canary requests this tick)`;
    return { verdict: { at: now.toISOString(), outcome: worst.outcome, summary, evidence } };
  }
}

function formatValue(metric: MetricName, value: number): string {
  return metric === 'errorRate' ? `${(value * 100).toFixed(2)}%` : `${Math.round(value)} ms`;
}
