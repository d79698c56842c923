import { DetectableEffect, emptyTrafficStats, TrafficStats } from '@release-pilot/plugin-releases-common';
import { SeededRandom } from '../../simulation/random';
import { DEFAULT_SEQUENTIAL_OPTIONS, SequentialJudge, SequentialJudgeOptions } from './SequentialJudge';

/** What a plan's power depends on: the service's traffic and error rate, the plan, the tick and the judge. */
export interface DetectableEffectInput {
  /** Requests per second the service serves (both sides together). */
  rps: number;
  /** The stable version's error rate, e.g. 0.005. */
  baselineErrorRate: number;
  steps: Array<{ weight: number; seconds: number }>;
  tickSeconds: number;
  judge?: SequentialJudgeOptions;
  /** Default 0.9. */
  probability?: number;
  /** Simulated releases per ratio tried; default 40. */
  runs?: number;
  seed?: number;
}

/** The largest error ratio tried: beyond it the plan is reported as unable to detect any error regression. */
export const MAX_DETECTABLE_RATIO = 20;

function side(random: SeededRandom, requests: number, errorRate: number): TrafficStats {
  const stats = emptyTrafficStats();
  stats.requests = requests;
  stats.errors = random.binomial(requests, Math.min(1, errorRate));
  // Every request in one latency bucket on both sides: the latency tests see no difference.
  stats.latency.counts[0] = requests;
  return stats;
}

/** Whether one simulated release with the canary's errors at `ratio` times the baseline's ends in a failed verdict. */
function detects(input: DetectableEffectInput, judge: SequentialJudge, ratio: number, seed: number): boolean {
  const random = new SeededRandom(seed);
  let state: unknown;
  const now = new Date(0);
  for (const [index, step] of input.steps.entries()) {
    for (let t = 0; t < step.seconds; t += input.tickSeconds) {
      const total = random.poisson(input.rps * Math.min(input.tickSeconds, step.seconds - t));
      const canaryRequests = random.binomial(total, step.weight / 100);
      const sample = {
        canary: side(random, canaryRequests, input.baselineErrorRate * ratio),
        baseline: side(random, total - canaryRequests, input.baselineErrorRate),
      };
      const result = judge.judge({ sample, window: sample, state, step: { index, count: input.steps.length }, now });
      if (result.verdict.outcome === 'fail') return true;
      state = result.state;
    }
  }
  return false;
}

/**
 * The smallest error-rate regression (canary over baseline) that a plan's sequential judge catches
 * with the given probability at this traffic, by simulating releases (the same seeds for every
 * ratio, so the share detected rises with the ratio) and bisecting on the ratio. `ratio` is
 * undefined when even 20x is caught less often than that: the plan cannot protect this service.
 */
export function detectableEffect(input: DetectableEffectInput): DetectableEffect {
  const probability = input.probability ?? 0.9;
  const runs = input.runs ?? 40;
  const seed = input.seed ?? 1;
  // Only the error test matters here (its alpha does not depend on the others): no latency or counter tests to pay for.
  const options = input.judge ?? DEFAULT_SEQUENTIAL_OPTIONS;
  const judge = new SequentialJudge({ ...options, latency: { ...options.latency, quantiles: [] }, counters: {} });
  // Whether at least `probability` of the runs detect: stops as soon as the answer is known.
  const enough = (ratio: number) => {
    const allowedMisses = Math.floor(runs * (1 - probability) + 1e-9);
    let misses = 0;
    for (let i = 0; i < runs; i++) {
      if (!detects(input, judge, ratio, seed + i) && ++misses > allowedMisses) return false;
      if (i + 1 - misses >= runs - allowedMisses) return true;
    }
    return true;
  };
  const base = { probability, runs, rps: input.rps, baselineErrorRate: input.baselineErrorRate };
  if (input.rps <= 0 || input.baselineErrorRate <= 0 || !enough(MAX_DETECTABLE_RATIO)) return base;
  // Bisect on log(ratio) between the judge's tolerance and 20x, to 5 %.
  let low = 1 + options.errorRate.minEffect;
  let high = MAX_DETECTABLE_RATIO;
  while (high / low > 1.05) {
    const mid = Math.sqrt(low * high);
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return { ...base, ratio: Number(high.toFixed(2)) };
}
