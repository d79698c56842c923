import {
  errorRate,
  histogramQuantile,
  MetricEvidence,
  TrafficStats,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { Judge, JudgeInput, JudgeResult } from '../judge';
import { classifyMetric, KayentaMetricSettings } from './classifier';
import { scoreCanaryRun, ScoreThresholds } from './scoring';

/** Settings of the Kayenta-mode judge. */
export interface KayentaJudgeOptions {
  /** How many of the latest ticks form each metric's series. */
  windowTicks: number;
  /** Fewer points than this on a side: inconclusive. */
  minPoints: number;
  metric: Partial<KayentaMetricSettings>;
  thresholds: ScoreThresholds;
  /** Weights (percent) of the metric groups `errorRate` and `p95LatencyMs`; unweighted groups share the rest. */
  groupWeights?: Record<string, number>;
}

/** Kayenta-like defaults: higher is worse, critical, 95 % confidence, pass at 95, marginal at 75. */
export const DEFAULT_KAYENTA_OPTIONS: KayentaJudgeOptions = {
  windowTicks: 30,
  minPoints: 5,
  metric: { direction: 'increase', critical: true },
  thresholds: { pass: 95, marginal: 75 },
};

type KayentaMetric = 'errorRate' | 'p95LatencyMs';
type Series = Record<'canary' | 'baseline', Record<KayentaMetric, number[]>>;

interface KayentaState {
  version: 1;
  series: Series;
}

const METRICS: KayentaMetric[] = ['errorRate', 'p95LatencyMs'];

function value(metric: KayentaMetric, stats: TrafficStats): number {
  return metric === 'errorRate' ? errorRate(stats) : histogramQuantile(stats.latency, 0.95);
}

/**
 * Kayenta mode, for teams moving from Spinnaker: each metric becomes a series of per-tick values
 * (error rate, p95 latency) for canary and baseline; Kayenta's Mann-Whitney classifier compares the
 * latest `windowTicks` of them and its weighted scoring decides. Re-run at every tick, a fixed-level
 * test has no false-alarm guarantee over the release; the sequential judge is the default for that reason.
 */
export class KayentaJudge implements Judge {
  constructor(private readonly options: KayentaJudgeOptions = DEFAULT_KAYENTA_OPTIONS) {}

  judge({ sample, state, now }: JudgeInput): JudgeResult {
    const previous = (state as KayentaState | undefined)?.version === 1 ? (state as KayentaState).series : undefined;
    const series: Series = { canary: { errorRate: [], p95LatencyMs: [] }, baseline: { errorRate: [], p95LatencyMs: [] } };
    for (const side of ['canary', 'baseline'] as const) {
      for (const metric of METRICS) {
        series[side][metric] = [...(previous?.[side][metric] ?? []), value(metric, sample[side])].slice(-this.options.windowTicks);
      }
    }
    const results = METRICS.map(metric => {
      const control = series.baseline[metric].filter(v => !Number.isNaN(v));
      const experiment = series.canary[metric].filter(v => !Number.isNaN(v));
      const enough = control.length >= this.options.minPoints && experiment.length >= this.options.minPoints;
      return { metric, enough, result: classifyMetric(control, experiment, this.options.metric), control, experiment };
    });
    const score = scoreCanaryRun(
      results.map(r => ({ name: r.metric, groups: [r.metric], result: r.result })),
      this.options.groupWeights ?? {},
      this.options.thresholds,
    );
    const evidence: MetricEvidence[] = results.map(({ metric, enough, result, control, experiment }) => {
      let outcome: VerdictOutcome = 'pass';
      if (!enough || result.classification === 'Nodata' || result.classification === 'Error') {
        outcome = 'inconclusive';
      }
      else if (result.classification === 'High') outcome = result.critical ? 'fail' : 'warn';
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
      return {
        metric,
        outcome,
        canary: mean(experiment),
        baseline: mean(control),
        canaryRequests: sample.canary.requests,
        baselineRequests: sample.baseline.requests,
        rule: `Kayenta Mann-Whitney over the last ${experiment.length} ticks: ${result.classification}${result.interval ? `, shift ${result.interval.estimate.toPrecision(3)} in [${result.interval.lower.toPrecision(3)}, ${result.interval.upper.toPrecision(3)}]` : ''}`,
        estimate: result.deviation,
      };
    });
    const inconclusive = evidence.every(e => e.outcome === 'inconclusive');
    let outcome: VerdictOutcome = 'pass';
    if (inconclusive) outcome = 'inconclusive';
    else if (score.outcome === 'Fail') outcome = 'fail';
    else if (score.outcome === 'Marginal') outcome = 'warn';
    const worst = evidence.find(e => e.outcome === 'fail') ?? evidence[0];
    return {
      verdict: {
        at: now.toISOString(),
        outcome,
        summary:
          outcome === 'fail'
            ? `Kayenta score ${score.score.toFixed(0)} (${score.forcedToZero ?? 'below the marginal threshold'}): ${worst.metric === 'errorRate' ? 'error rate' : 'p95 latency'} High`
            : `Kayenta score ${score.score.toFixed(0)}: ${score.outcome}`,
        evidence,
      },
      state: { version: 1, series } satisfies KayentaState,
    };
  }
}
