import { Config } from '@backstage/config';
import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { PlanMinimums } from '@release-pilot/plugin-releases-node';

/** Without config: a step lasts at least a second, whatever it asks of the canary. */
export const DEFAULT_MINIMUMS: PlanMinimums = { stepSeconds: 1, canaryRequests: 0 };

/** Reads `<at>.minimums`; throws naming the key when a value is not a whole number in range. */
export function readMinimums(block: Config, at: string): PlanMinimums | undefined {
  const config = block.getOptionalConfig('minimums');
  if (!config) return undefined;
  for (const key of config.keys()) {
    if (key !== 'stepSeconds' && key !== 'canaryRequests') {
      throw new Error(`Invalid config ${at}.minimums.${key}: unknown key; use stepSeconds or canaryRequests`);
    }
  }
  const read = (key: keyof PlanMinimums, low: number, high: number) => {
    const value = config.getOptionalNumber(key) ?? DEFAULT_MINIMUMS[key];
    if (!Number.isInteger(value) || value < low || value > high) {
      throw new Error(`Invalid config ${at}.minimums.${key}: ${value}; a whole number from ${low} to ${high}`);
    }
    return value;
  };
  return { stepSeconds: read('stepSeconds', 1, 86_400), canaryRequests: read('canaryRequests', 0, 1_000_000) };
}

/** The steps that judge a canary: all of a canary plan's, a blue-green plan's before its switch. */
function judgedSteps(plan: ReleasePlan) {
  return plan.steps
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => plan.strategy !== 'blueGreen' || step.weight < 100);
}

/** What in `plan` falls short of the target's minimums, in words (empty: none). */
export function minimumsProblems(plan: ReleasePlan, minimums: PlanMinimums, targetName: string): string[] {
  const key = `releases.targets.${targetName}.minimums`;
  const problems: string[] = [];
  for (const { step, index } of judgedSteps(plan)) {
    if (step.minDurationSeconds < minimums.stepSeconds) {
      problems.push(`step ${index + 1} (${step.weight}%) lasts ${step.minDurationSeconds} s; target '${targetName}' asks at least ${minimums.stepSeconds} s (${key}.stepSeconds)`);
    }
    if (step.minCanaryRequests < minimums.canaryRequests) {
      problems.push(`step ${index + 1} (${step.weight}%) asks ${step.minCanaryRequests} canary requests; target '${targetName}' asks at least ${minimums.canaryRequests} (${key}.canaryRequests)`);
    }
  }
  return problems;
}

/** How careful a plan is, by the measures a shortcut would cut. */
function care(plan: ReleasePlan) {
  const judged = judgedSteps(plan).map(s => s.step);
  let jump = 0;
  let previous = 0;
  for (const step of plan.steps) {
    jump = Math.max(jump, step.weight - previous);
    previous = step.weight;
  }
  return {
    jump,
    seconds: plan.steps.reduce((sum, s) => sum + s.minDurationSeconds, 0),
    requests: judged.length ? Math.min(...judged.map(s => s.minCanaryRequests)) : 0,
    watch: plan.watchSeconds ?? 0,
    gates: plan.steps.filter(s => s.approval).length,
  };
}

const duration = (seconds: number) =>
  seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;

/**
 * Where a requested plan is less careful than `shaped`, the plan the risk would have chosen: a
 * bigger jump in weight, less time in steps, fewer canary requests in a step, a shorter watch, or
 * fewer manual gates. Empty when it is at least as careful in every one.
 */
export function lessCarefulThan(plan: ReleasePlan, shaped: ReleasePlan): string[] {
  const a = care(plan);
  const b = care(shaped);
  const why: string[] = [];
  if (a.jump > b.jump) why.push(`a jump of ${a.jump} points in weight (the risk's plan: ${b.jump})`);
  if (a.seconds < b.seconds) why.push(`${duration(a.seconds)} in steps (the risk's plan: ${duration(b.seconds)})`);
  if (a.requests < b.requests) why.push(`${a.requests} canary requests in a step (the risk's plan: ${b.requests})`);
  if (a.watch < b.watch) why.push(`a watch of ${duration(a.watch)} (the risk's plan: ${duration(b.watch)})`);
  if (a.gates < b.gates) why.push(`${a.gates} manual gates (the risk's plan: ${b.gates})`);
  const missing = (shaped.gate?.experiments ?? []).filter(e => !plan.gate?.experiments.some(x => x.name === e.name)).map(e => e.name);
  if (missing.length) why.push(`no resilience experiment ${missing.map(m => `'${m}'`).join(', ')} (the risk's plan runs it before any traffic)`);
  return why;
}
