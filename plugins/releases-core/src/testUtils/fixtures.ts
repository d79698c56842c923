import {
  emptyTrafficStats,
  Release,
  ReleasePlan,
  TrafficStats,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import { Judge } from '../judges/judge';
import { WatchInput, WatchJudge } from '../judges/watch/WatchJudge';
import { DEFAULT_ANALYSIS, ReleaseAnalysis } from '../engine/analysis';
import { DEFAULT_ENGINE_OPTIONS, EngineEvent, EngineOptions } from '../engine/types';

export const THREE_STEP_PLAN: ReleasePlan = {
  name: 'test',
  steps: [
    { weight: 10, minDurationSeconds: 10, minCanaryRequests: 100 },
    { weight: 50, minDurationSeconds: 10, minCanaryRequests: 100 },
    { weight: 100, minDurationSeconds: 10, minCanaryRequests: 100 },
  ],
};

export function makeRelease(overrides: Partial<Release> = {}): Release {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    entityRef: 'component:default/checkout',
    version: '2.0.0',
    target: 'simulator',
    state: 'pending',
    plan: THREE_STEP_PLAN,
    currentStep: 0,
    canaryWeight: 0,
    stepCanaryRequests: 0,
    consecutiveProviderErrors: 0,
    revision: 0,
    createdBy: 'user:default/alice',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    metadata: {},
    ...overrides,
  };
}

export function makeVerdict(outcome: VerdictOutcome, summary = `verdict ${outcome}`): Verdict {
  return { at: '2026-01-01T00:00:00.000Z', outcome, summary, evidence: [] };
}

/** Statistics with `requests` requests, `errors` errors and every latency in the bucket holding `latencyMs`. */
export function makeStats(requests: number, errors: number, latencyMs: number): TrafficStats {
  const stats = emptyTrafficStats();
  stats.requests = requests;
  stats.errors = errors;
  const bucket = stats.latency.boundsMs.findIndex(b => latencyMs <= b);
  stats.latency.counts[bucket === -1 ? stats.latency.counts.length - 1 : bucket] = requests;
  return stats;
}

/**
 * Scripted measurements for engine tests: a tick's outcome is written into its sample as the
 * canary's error count (pass 0, warn 1, fail 2, inconclusive 3), and the scripted judge and watch
 * read it back, so a test says what the judge finds without building real statistics.
 */
const SCRIPT: VerdictOutcome[] = ['pass', 'warn', 'fail', 'inconclusive'];

/** A tick whose measurement the scripted analysis says is `outcome`, with `canaryRequests` canary requests. */
export function scriptedTick(outcome: VerdictOutcome, canaryRequests = 0): EngineEvent {
  const canary = emptyTrafficStats();
  canary.requests = canaryRequests;
  canary.errors = SCRIPT.indexOf(outcome);
  return { type: 'tick', sample: { canary, baseline: emptyTrafficStats() }, earlier: [] };
}

/** The outcome a scripted tick carries (none for other events). */
export function scriptedOutcome(event: EngineEvent): VerdictOutcome | undefined {
  return event.type === 'tick' ? SCRIPT[event.sample.canary.errors] : undefined;
}

function scripted(errors: number, kind: Verdict['kind']): Verdict {
  const outcome = SCRIPT[errors];
  if (!outcome) throw new Error(`not a scripted sample (${errors} canary errors)`);
  return { ...makeVerdict(outcome, `judge said ${outcome}`), kind };
}

export const SCRIPTED_JUDGE: Judge = { judge: ({ sample }) => ({ verdict: scripted(sample.canary.errors, 'canary') }) };

/** The real watch, but for its verdicts on a tick, which are scripted. */
class ScriptedWatch extends WatchJudge {
  needsHistory() {
    return false;
  }

  judge({ window }: WatchInput) {
    return { verdict: scripted(window.errors, 'watch'), state: undefined };
  }
}

/** The scripted analysis: the scripted judge and watch, with `limits`. */
export function scriptedAnalysis(limits: ReleaseAnalysis['limits'] = DEFAULT_ANALYSIS.limits): ReleaseAnalysis {
  return {
    judge: SCRIPTED_JUDGE,
    limits,
    watch: new ScriptedWatch(),
    windowSeconds: 30,
  };
}

/** Engine options with the scripted analysis. */
export function scriptedOptions(overrides: Partial<EngineOptions> = {}, limits?: ReleaseAnalysis['limits']): EngineOptions {
  return { ...DEFAULT_ENGINE_OPTIONS, analysis: scriptedAnalysis(limits), ...overrides };
}
