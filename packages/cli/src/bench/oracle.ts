import { DEFAULT_LATENCY_BOUNDS_MS } from '@release-pilot/plugin-releases-common';
import { normalCdf } from '@release-pilot/plugin-releases-core';
import { Scenario } from '../simulate/scenario';

const Z95 = 1.6448536269514722;

/** P(latency > thresholdMs) for a lognormal given by its p50 and p95. */
function slowShare(latency: { p50: number; p95: number }, thresholdMs: number): number {
  const sigma = Math.log(latency.p95 / latency.p50) / Z95;
  return 1 - normalCdf(Math.log(thresholdMs / latency.p50) / sigma);
}

/** Kullback-Leibler divergence of Bernoulli(q1) from Bernoulli(q0). */
function bernoulliKl(q1: number, q0: number): number {
  const term = (p: number, q: number) => (p > 0 ? p * Math.log(p / q) : 0);
  return term(q1, q0) + term(1 - q1, 1 - q0);
}

/**
 * The information limit: the expected seconds an oracle sequential probability ratio test, which knows
 * the true baseline and canary rates, needs to reject "no more than theta0 worse" at level alpha, from
 * the fault's first traffic, on the same two event streams as the judge (errors and slow requests),
 * with the plan's traffic split. Wald's approximation: the expected log-likelihood ratio grows by
 * events/s x KL(canary share under the truth || under the null) each second until it reaches log(1/alpha).
 * Undefined for a healthy scenario, or when the plan ends first.
 */
export function oracleDetectionSeconds(scenario: Scenario, alpha = 0.01, theta0 = 1.2): number | undefined {
  const fault = scenario.canary.fault;
  if (!fault) return undefined;
  const threshold = DEFAULT_LATENCY_BOUNDS_MS.find(b => b >= scenario.baseline.latencyMs.p95)!;
  const streams = [
    { baseline: scenario.baseline.errorRate, canary: fault.errorRate ?? scenario.baseline.errorRate },
    {
      baseline: slowShare(scenario.baseline.latencyMs, threshold),
      canary: slowShare(fault.latencyMs ?? scenario.baseline.latencyMs, threshold),
    },
  ];
  const target = Math.log(1 / alpha);
  let llr = 0;
  let elapsed = 0;
  let seconds = 0;
  for (const step of scenario.plan.steps) {
    const w = step.weight / 100;
    const active = fault.atWeight === undefined || step.weight >= fault.atWeight;
    for (let s = 0; s < step.seconds; s++, elapsed++) {
      if (!active || (fault.afterSeconds !== undefined && elapsed < fault.afterSeconds) || w === 0 || w === 1) continue;
      for (const stream of streams) {
        const canaryEvents = scenario.traffic.rps * w * stream.canary;
        const baselineEvents = scenario.traffic.rps * (1 - w) * stream.baseline;
        const events = canaryEvents + baselineEvents;
        if (events === 0 || stream.canary <= stream.baseline * theta0) continue;
        const q1 = canaryEvents / events;
        const q0 = (theta0 * w) / (theta0 * w + (1 - w));
        llr += events * bernoulliKl(q1, q0);
      }
      seconds++;
      if (llr >= target) return seconds;
    }
  }
  return undefined;
}
