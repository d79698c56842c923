import { mockServices } from '@backstage/backend-test-utils';
import { RiskAssessment } from '@release-pilot/plugin-releases-common';
import { DEFAULT_PLAN, VirtualClock } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { DEFAULT_RISK_OPTIONS, RiskService } from './RiskService';

const service = new RiskService({
  store: {} as ReleasesStore,
  clock: new VirtualClock('2026-11-27T10:00:00Z'),
  logger: mockServices.logger.mock(),
  options: { ...DEFAULT_RISK_OPTIONS, teamThresholds: { 'team-payments': 0.6, 'group:default/team-search': 0.7 } },
});

const assessment = (probability: number, features: Record<string, number> = {}): RiskAssessment => ({
  probability,
  model: 'prior',
  threshold: 0.85,
  blocked: false,
  reasons: [],
  features,
});

describe('RiskService', () => {
  it('takes the entity annotation over the team threshold over the default', () => {
    expect(service.thresholdFor({}, 'team-checkout')).toBe(0.85);
    expect(service.thresholdFor({}, 'group:default/team-payments')).toBe(0.6);
    expect(service.thresholdFor({}, 'group:default/team-search')).toBe(0.7);
    expect(service.thresholdFor({ 'release-pilot.io/risk-threshold': '0.5' }, 'team-payments')).toBe(0.5);
    // A nonsense annotation falls back instead of blocking everything.
    expect(service.thresholdFor({ 'release-pilot.io/risk-threshold': '7' }, 'team-payments')).toBe(0.6);
  });

  it('blocks above the threshold only, with the forest or the prior', () => {
    const risky = service.assess({ linesChanged: 20000, breaking: 1, majorDependencyChanges: 3, serviceReleases: 0 }, 0.85);
    expect(risky).toMatchObject({ model: 'prior', blocked: true });
    expect(service.assess({ linesChanged: 20000, breaking: 1, majorDependencyChanges: 3 }, 0.99).blocked).toBe(false);
  });

  it('shapes the plan: faster when low, smaller and gated when high or busy, blue-green as it is', () => {
    expect(service.shapePlan(DEFAULT_PLAN, assessment(0.05, { linesChanged: 40 })).plan.steps.map(s => s.minDurationSeconds)).toEqual([30, 30, 30, 30, 30, 30]);
    expect(service.shapePlan(DEFAULT_PLAN, assessment(0.05, { filesChanged: 2 })).plan.name).toBe('default (low risk)');
    const middle = service.shapePlan(DEFAULT_PLAN, assessment(0.3));
    expect(middle.plan).toBe(DEFAULT_PLAN);
    const high = service.shapePlan(DEFAULT_PLAN, assessment(0.6)).plan;
    expect(high.steps.map(s => `${s.approval ? 'gate ' : ''}${s.weight}`)).toEqual(['1', '2', '5', '10', '12', '25', 'gate 50', '100']);
    expect(high.steps.every(s => s.minDurationSeconds === 120)).toBe(true);
    const busy = service.shapePlan(DEFAULT_PLAN, assessment(0.05, { trafficRatio: 2.2 }));
    expect(busy.plan.name).toBe('default (high risk)');
    expect(busy.reason).toMatch(/^traffic 2\.2x the usual for this time of day: smaller steps/);
    const blueGreen = { name: 'bg', strategy: 'blueGreen' as const, steps: [{ weight: 0, minDurationSeconds: 5, minCanaryRequests: 1 }, { weight: 100, minDurationSeconds: 0, minCanaryRequests: 1 }] };
    expect(service.shapePlan(blueGreen, assessment(0.9)).plan).toBe(blueGreen);
  });

  it('never calls a change of unknown size low risk: the plan stays as configured, and the assessment says what is unknown', () => {
    const unknownSize = service.shapePlan(DEFAULT_PLAN, assessment(0.02, { serviceReleases: 40, authorServiceReleases: 12 }));
    expect(unknownSize.plan).toBe(DEFAULT_PLAN);
    expect(unknownSize.reason).toBe("risk 2%, but the change's size is unknown: plan 'default' as configured, never shortened");
    expect(service.assess({ serviceReleases: 40, serviceFailureRate: 0 }, 0.85).unknown).toEqual(['change size (no lines or files changed were sent)']);
    expect(service.assess({ serviceReleases: 40, linesChanged: 12 }, 0.85).unknown).toBeUndefined();
  });
});
