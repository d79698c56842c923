import { render, screen } from '@testing-library/react';
import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { ReleaseStepper, releaseProgress } from './ReleaseStepper';

describe('releaseProgress', () => {
  it('is the lesser of elapsed time and canary requests', () => {
    const release = { ...rolledBackRelease(), state: 'running' as const, stepCanaryRequests: 25 };
    expect(releaseProgress(release, new Date('2026-01-01T00:00:04.000Z'))).toBeCloseTo(0.5);
    expect(releaseProgress({ ...release, stepCanaryRequests: 500 }, new Date('2026-01-01T00:00:04.000Z'))).toBeCloseTo(0.5);
    expect(releaseProgress({ ...release, stepCanaryRequests: 500 }, new Date('2026-01-01T00:01:00.000Z'))).toBe(1);
    expect(releaseProgress({ ...release, state: 'succeeded' }, new Date())).toBe(1);
  });

  it('is the elapsed share of the post-release watch while watching', () => {
    const release = {
      ...rolledBackRelease(),
      state: 'watching' as const,
      plan: { ...rolledBackRelease().plan, watchSeconds: 120 },
      watchStartedAt: '2026-01-01T00:10:00.000Z',
    };
    expect(releaseProgress(release, new Date('2026-01-01T00:10:30.000Z'))).toBeCloseTo(0.25);
    expect(releaseProgress(release, new Date('2026-01-01T00:20:00.000Z'))).toBe(1);
  });
});

describe('ReleaseStepper', () => {
  /** The label classes of a step: active, completed, error. */
  const state = (name: string) => {
    const label = screen.getByText(name);
    return ['active', 'completed', 'error'].filter(c => label.className.includes(`MuiStepLabel-${c}`) || label.className.includes(`Mui-${c}`));
  };

  it('shows a managed release\'s lifecycle around its steps: deploy, steps, watch, promote', () => {
    const release = rolledBackRelease();
    const event = (type: string) => ({ id: 0, releaseId: release.id, actor: 'release-pilot', message: '', type: type as never, at: release.createdAt });
    const promoting = {
      ...release,
      state: 'promoting' as const,
      deployMode: 'deployer' as const,
      plan: { ...release.plan, watchSeconds: 60 },
      watchStartedAt: release.createdAt,
      timeline: [event('canary_deployed'), event('promotion_started')],
    };
    render(<ReleaseStepper release={promoting} />);
    expect(state('Deploy')).toEqual(['completed']);
    expect(state('Watch')).toEqual(['completed']);
    expect(state('Promote')).toEqual(['active']);
  });

  it('shows a resilience gate as the stage after the deploy, and marks it, not a step, when it blocked the release', () => {
    const release = rolledBackRelease();
    const event = (type: string) => ({ id: 0, releaseId: release.id, actor: 'release-pilot', message: '', type: type as never, at: release.createdAt });
    const experiment = { name: 'dependency +200 ms', fault: 'dependencyLatency' as const, durationSeconds: 20, recoverySeconds: 30 };
    const gate = { experiments: [experiment], margins: { errorRatio: 1.5, latency: 0.2, slowRatio: 1.5, recoverySeconds: 10 }, quantile: 0.95, steadySeconds: 10, calibrationSeconds: 5, minRequests: 100, alpha: 0.01 };
    const blocked = {
      ...release,
      deployMode: 'deployer' as const,
      plan: { ...release.plan, gate },
      resilience: { experiments: [], index: 0, verdict: 'failed' as const },
      timeline: [event('canary_deployed'), event('gate_started'), event('gate_failed')],
    };
    render(<ReleaseStepper release={blocked} />);
    expect(state('Deploy')).toEqual(['completed']);
    expect(state('Resilience gate')).toEqual(['active', 'error']);
    expect(state('1%')).toEqual([]);
    expect(screen.getByText('1 experiment at 0%')).toBeInTheDocument();
  });

  it('has no deploy or promote step for a target without a deployer, and marks where a rollback happened', () => {
    render(<ReleaseStepper release={rolledBackRelease()} />);
    expect(screen.queryByText('Deploy')).not.toBeInTheDocument();
    expect(screen.queryByText('Promote')).not.toBeInTheDocument();
    expect(state('1%')).toContain('error');
  });
});
