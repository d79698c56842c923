import {
  emptyTrafficStats,
  Release,
  ReleasePlan,
  TrafficStats,
  Verdict,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';

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
