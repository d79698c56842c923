import {
  emptyTrafficStats,
  ReleaseDetails,
  TrafficStats,
} from '@release-pilot/plugin-releases-common';

export function stats(requests: number, errors: number, latencyMs: number): TrafficStats {
  const s = emptyTrafficStats();
  s.requests = requests;
  s.errors = errors;
  const bucket = s.latency.boundsMs.findIndex(b => latencyMs <= b);
  s.latency.counts[bucket] = requests;
  return s;
}

export function rolledBackRelease(): ReleaseDetails {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    entityRef: 'component:default/checkout',
    version: '2.1.0-faulty',
    target: 'simulator',
    state: 'rolled_back',
    plan: {
      name: 'demo',
      steps: [
        { weight: 1, minDurationSeconds: 6, minCanaryRequests: 50 },
        { weight: 100, minDurationSeconds: 6, minCanaryRequests: 50 },
      ],
    },
    currentStep: 0,
    stepStartedAt: '2026-01-01T00:00:01.000Z',
    canaryWeight: 0,
    stepCanaryRequests: 60,
    consecutiveProviderErrors: 0,
    revision: 4,
    createdBy: 'user:default/alice',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:04.000Z',
    finishedAt: '2026-01-01T00:00:04.000Z',
    reason: 'P95 latency 3,033 ms vs 147 ms baseline (20.6x)',
    metadata: {},
    latestVerdict: {
      at: '2026-01-01T00:00:04.000Z',
      outcome: 'fail',
      summary: 'P95 latency 3,033 ms vs 147 ms baseline (20.6x)',
      evidence: [
        { metric: 'errorRate', outcome: 'pass', canary: 0, baseline: 0.0002, canaryRequests: 60, baselineRequests: 5940, rule: 'fail when canary error rate > 1.5x baseline' },
        { metric: 'p95LatencyMs', outcome: 'fail', canary: 3033, baseline: 147, canaryRequests: 60, baselineRequests: 5940, rule: 'fail when canary p95 > 2x baseline' },
      ],
    },
    steps: [{ index: 0, weight: 1, startedAt: '2026-01-01T00:00:01.000Z', endedAt: '2026-01-01T00:00:04.000Z' }],
    timeline: [
      { id: 1, releaseId: 'r', at: '2026-01-01T00:00:00.000Z', actor: 'user:default/alice', type: 'created', message: 'Release of 2.1.0-faulty requested' },
      { id: 2, releaseId: 'r', at: '2026-01-01T00:00:04.000Z', actor: 'judge', type: 'rollback_started', message: 'Rolling back: P95 latency 3,033 ms vs 147 ms baseline (20.6x)' },
    ],
    samples: [1, 2, 3].map(s => ({
      at: `2026-01-01T00:00:0${s + 1}.000Z`,
      stepIndex: 0,
      canaryWeight: 1,
      canary: stats(20, 0, 3000),
      baseline: stats(1980, 0, 140),
    })),
  };
}
