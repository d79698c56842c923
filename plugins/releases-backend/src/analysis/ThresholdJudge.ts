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
  /** Failed measurements tolerated over the release; one more rolls back (Argo's failureLimit). */
  failureLimit: number;
  /** Inconclusive measurements tolerated; one more pauses for a person (Argo's inconclusiveLimit). */
  inconclusiveLimit: number;
  /** A tick with fewer canary requests is an inconclusive measurement. */
  minRequests: number;
}

interface ThresholdState {
  version: 1;
  failed: Record<string, number>;
  inconclusive: Record<string, number>;
  measurements: number;
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
 * bounds; more failed measurements than `failureLimit` roll back, more inconclusive ones than
 * `inconclusiveLimit` pause. Simple and familiar, with no statistics and no baseline comparison.
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

  judge({ sample, state, now }: JudgeInput): JudgeResult {
    const previous = (state as ThresholdState | undefined)?.version === 1 ? (state as ThresholdState) : undefined;
    const failed = { ...previous?.failed };
    const inconclusive = { ...previous?.inconclusive };
    const enough = sample.canary.requests >= this.options.minRequests;

    const evidence: MetricEvidence[] = this.options.metrics.map(m => {
      const value = measure(m.metric, sample.canary);
      const key = `${m.metric}`;
      if (!enough || !Number.isFinite(value)) {
        inconclusive[key] = (inconclusive[key] ?? 0) + 1;
      } else if ((m.max !== undefined && value > m.max) || (m.min !== undefined && value < m.min)) {
        failed[key] = (failed[key] ?? 0) + 1;
      }
      let outcome: VerdictOutcome = 'pass';
      if ((failed[key] ?? 0) > this.options.failureLimit) outcome = 'fail';
      else if ((inconclusive[key] ?? 0) > this.options.inconclusiveLimit) outcome = 'warn';
      else if (!enough) outcome = 'inconclusive';
      return {
        metric: m.metric,
        outcome,
        canary: value,
        baseline: measure(m.metric, sample.baseline),
        canaryRequests: sample.canary.requests,
        baselineRequests: sample.baseline.requests,
        rule: `${describeBound(m)}: ${failed[key] ?? 0} failed measurements (limit ${this.options.failureLimit}), ${inconclusive[key] ?? 0} inconclusive (limit ${this.options.inconclusiveLimit})`,
      };
    });
    const severity: Record<VerdictOutcome, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };
    const worst = evidence.reduce((a, b) => (severity[b.outcome] > severity[a.outcome] ? b : a));
    let summary = `All ${evidence.length} thresholds held`;
    if (worst.outcome === 'fail') summary = `Threshold broken too often: ${worst.rule}`;
    else if (worst.outcome === 'warn') summary = `Too many inconclusive measurements: ${worst.rule}`;
    else if (worst.outcome === 'inconclusive') summary = `Not enough traffic yet (${sample.canary.requests} canary requests this tick)`;
    return {
      verdict: { at: now.toISOString(), outcome: worst.outcome, summary, evidence },
      state: { version: 1, failed, inconclusive, measurements: (previous?.measurements ?? 0) + 1 } satisfies ThresholdState,
    };
  }
}
