import { DetectableEffect, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { detectableEffect, Judge, SequentialJudge } from '@release-pilot/plugin-releases-core';

const CACHE_SIZE = 500;

/** Two significant digits: traffic that differs by less than that gives the same answer from the cache. */
const rounded = (value: number) => Number(value.toPrecision(2));

/**
 * What a plan can detect at a service's traffic (the Start dialog's warning), cached by traffic
 * and error rate to two significant digits, plan and judge: a simulation takes up to half a second.
 */
export class DetectableEffects {
  private readonly cache = new Map<string, DetectableEffect>();

  constructor(private readonly tickSeconds: number) {}

  /** Undefined for a judge that is not sequential, or a service whose traffic or error rate is unknown. */
  of(judge: Judge, plan: ReleasePlan, traffic: { rps?: number; errorRate?: number }): DetectableEffect | undefined {
    if (!(judge instanceof SequentialJudge) || !traffic.rps || !traffic.errorRate || plan.steps.length === 0) return undefined;
    const input = {
      rps: rounded(traffic.rps),
      baselineErrorRate: rounded(traffic.errorRate),
      steps: plan.steps.map(s => ({ weight: s.weight, seconds: s.minDurationSeconds })),
      tickSeconds: this.tickSeconds,
      judge: judge.options,
    };
    const key = JSON.stringify(input);
    let effect = this.cache.get(key);
    if (!effect) {
      effect = detectableEffect(input);
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, effect);
    }
    return effect;
  }
}
