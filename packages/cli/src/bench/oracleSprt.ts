import { SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { ALPHA_SHARES, poissonUpperBound } from '@release-pilot/plugin-releases-core';
import { Scenario } from '../simulate/scenario';

/**
 * The oracle a judge is measured against: Wald's sequential probability ratio test of the error
 * rates' ratio, canary over baseline, that knows the true ratio θ1. Each tick's canary share of the
 * errors is Binomial with q(θ) = θ·nc / (θ·nc + nb); the test adds log(q(θ1)/q(θ0)) per canary error
 * and log((1-q(θ1))/(1-q(θ0))) per baseline error and rejects "at most θ0" at log(1/α). It is the
 * fastest level-α test for that alternative: no test that does not know θ1 is faster on average.
 * Where the canary serves alone (the 100 % step) it knows what the judge knows of the baseline's
 * rate: the same upper bound U from the baseline's earlier counts (so the comparison measures the
 * price of not knowing θ1 alone); the canary's errors are Poisson, and each tick adds
 * C·log(θ1/θ0) - (θ1 - θ0)·U·nc.
 */
export class OracleSprt {
  private llr = 0;
  private baselineErrors = 0;
  private baselineRequests = 0;
  private readonly target: number;
  private readonly boundAlpha: number;

  constructor(private readonly theta1: number, private readonly theta0 = 1.2, alpha = 0.01) {
    this.target = Math.log(1 / alpha);
    this.boundAlpha = alpha * ALPHA_SHARES.baselineBound;
  }

  /** Adds one tick's counts; true once the test has rejected. */
  update(canaryErrors: number, canaryRequests: number, baselineErrors: number, baselineRequests: number): boolean {
    if (canaryRequests > 0 && baselineRequests === 0 && this.baselineRequests > 0) {
      const rate = poissonUpperBound(this.baselineErrors, this.boundAlpha) / this.baselineRequests;
      this.llr += canaryErrors * Math.log(this.theta1 / this.theta0) - (this.theta1 - this.theta0) * rate * canaryRequests;
    } else if (canaryRequests > 0 && baselineRequests > 0 && canaryErrors + baselineErrors > 0) {
      const q = (theta: number) => (theta * canaryRequests) / (theta * canaryRequests + baselineRequests);
      const [q1, q0] = [q(this.theta1), q(this.theta0)];
      this.llr += canaryErrors * Math.log(q1 / q0) + baselineErrors * Math.log((1 - q1) / (1 - q0));
    }
    this.baselineErrors += baselineErrors;
    this.baselineRequests += baselineRequests;
    return this.llr >= this.target;
  }
}

/**
 * One oracle run of an error-only scenario on the simulated fleet (seeded like the judge's runs):
 * the plan's steps at their weights, one tick at a time, until the oracle rejects or the plan ends.
 * Seconds from the first canary traffic, or undefined when the plan ended first.
 */
export function oracleRun(scenario: Scenario, seed: number, theta1: number): number | undefined {
  const fault = scenario.canary.fault!;
  const fleet = new SimulatedFleet({
    seed,
    rps: scenario.traffic.rps,
    baseline: scenario.baseline,
    faults: [{ versionPattern: /^faulty$/, errorRate: fault.errorRate ?? scenario.baseline.errorRate, latencyMs: fault.latencyMs ?? scenario.baseline.latencyMs }],
  });
  const oracle = new OracleSprt(theta1);
  const start = Date.UTC(2026, 0, 1);
  const tick = scenario.tickSeconds;
  let t = start;
  const context = { entityRef: `component:default/${scenario.name}`, releaseId: `oracle-${seed}`, version: 'faulty', annotations: {} };
  for (const step of scenario.plan.steps) {
    for (let s = 0; s < step.seconds; s += tick) {
      const from = new Date(t);
      t += tick * 1000;
      const sample = fleet.simulate(context, { from, to: new Date(t) }, step.weight);
      if (oracle.update(sample.canary.errors, sample.canary.requests, sample.baseline.errors, sample.baseline.requests)) return (t - start) / 1000;
    }
  }
  return undefined;
}
