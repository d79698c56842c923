/**
 * `yarn bench:gate`: the resilience gate in virtual time on simulated instances (50 requests/s of
 * synthetic load on each side, 1 s tick), over the default experiments: dependency latency +200 ms
 * for 30 s, CPU 80 % for 20 s, an instance kill for 5 s. Healthy versions count false blocks (the
 * gate's α is 1 %); `-fragile` ones (their dependency pool runs out under the latency) count blocks
 * and the seconds from their first fault to the verdict. Two more rows run one experiment (dependency
 * errors 10 % for 30 s) on a canary with exactly the margin's 1.5x the stable side's errors (blocked
 * at most α of the time) and with 3x. Prints a table, then JSON.
 *   yarn bench:gate [--runs N] [--seed S]
 */
import { DEFAULT_GATE_OPTIONS, simulateGate } from '@release-pilot/plugin-releases-core';
import { ResilienceGatePlan } from '@release-pilot/plugin-releases-common';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive whole number\n`);
    process.exit(2);
  }
  return value;
}

const runs = arg('runs', 500);
const seed = arg('seed', 1);
const TICK = 1;

const PLAN: ResilienceGatePlan = {
  ...DEFAULT_GATE_OPTIONS,
  experiments: [
    { name: 'dependency latency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 30, recoverySeconds: 30 },
    { name: 'CPU 80 %', fault: 'cpuPressure', intensity: 80, durationSeconds: 20, recoverySeconds: 30 },
    { name: 'instance kill', fault: 'instanceKill', durationSeconds: 5, recoverySeconds: 30 },
  ],
};

/** One experiment whose fault makes both sides fail some requests: the error test's margin is what decides. */
const ERRORS_PLAN: ResilienceGatePlan = {
  ...DEFAULT_GATE_OPTIONS,
  experiments: [{ name: 'dependency errors 10 %', fault: 'dependencyErrors', intensity: 0.1, durationSeconds: 30, recoverySeconds: 30 }],
};

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

function main() {
  const started = Date.now();
  const kinds = [
    { versions: 'healthy', plan: PLAN, canary: { fragile: false } },
    { versions: 'fragile', plan: PLAN, canary: { fragile: true } },
    // At the margin: errors exactly 1.5x the stable side's under the fault, the most a version may
    // have and pass. The gate blocks such a version at most alpha of the time; 3x it should block.
    { versions: 'errors 1.5x under dependency errors 10 % (the margin)', plan: ERRORS_PLAN, canary: { fragile: false, errorFactor: 1.5 } },
    { versions: 'errors 3x under dependency errors 10 %', plan: ERRORS_PLAN, canary: { fragile: false, errorFactor: 3 } },
  ];
  const rows = kinds.map(kind => {
    const results = Array.from({ length: runs }, (_, i) => simulateGate(kind.plan, kind.canary, seed * 100_000 + i, TICK));
    const blocked = results.filter(r => r.state.verdict === 'failed');
    const inconclusive = results.filter(r => r.state.verdict === 'inconclusive');
    return {
      versions: kind.versions,
      runs,
      blockedShare: blocked.length / runs,
      inconclusiveShare: inconclusive.length / runs,
      medianGateSeconds: median(results.map(r => r.seconds)),
      // From the start of the blocking experiment's fault to the verdict.
      medianSecondsFromFaultToBlock: median(blocked.map(r => r.seconds - (r.faultStartedAt[r.state.index] ?? NaN))),
      blockedBy: [...new Set(blocked.map(r => r.state.experiments[r.state.index].experiment.name))],
    };
  });
  process.stdout.write(`resilience gate, ${runs} runs per row, tick ${TICK} s, 50 requests/s per side, alpha ${PLAN.alpha}\n`);
  process.stdout.write('versions | blocked | inconclusive | median gate length | median fault start to block | blocked by\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.versions} | ${(100 * r.blockedShare).toFixed(1)} % | ${(100 * r.inconclusiveShare).toFixed(1)} % | ${r.medianGateSeconds} s | ${Number.isNaN(r.medianSecondsFromFaultToBlock) ? '-' : `${r.medianSecondsFromFaultToBlock} s`} | ${r.blockedBy.join(', ') || '-'}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ tickSeconds: TICK, alpha: PLAN.alpha, rows, seconds: (Date.now() - started) / 1000 })}\n`);
}

main();
