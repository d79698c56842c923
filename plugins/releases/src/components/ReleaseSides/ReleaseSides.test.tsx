import { render, screen } from '@testing-library/react';
import { Release } from '@release-pilot/plugin-releases-common';
import { ReleaseSides } from './ReleaseSides';

const base: Release = {
  id: 'r', entityRef: 'component:default/checkout', version: '2.1.0', target: 'simulator', state: 'running',
  plan: { name: 'p', steps: [{ weight: 10, minDurationSeconds: 1, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 1, minCanaryRequests: 0 }] },
  currentStep: 0, canaryWeight: 10, stepCanaryRequests: 0, consecutiveProviderErrors: 0, revision: 1, createdBy: 'user:default/alice',
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', metadata: {},
  deployMode: 'deployer', previousVersion: '2.0.0', sides: { stable: '2.0.0', canary: '2.1.0', canaryUp: true },
};

describe('ReleaseSides', () => {
  it("shows each side's version and the canary's weight", () => {
    render(<ReleaseSides release={base} />);
    expect(screen.getByTestId('side-versions')).toHaveTextContent('stable 2.0.0 · canary 2.1.0 at 10%');
    expect(screen.queryByTestId('release-phase')).not.toBeInTheDocument();
  });

  it('names the phase with the deployer’s progress while promoting', () => {
    render(<ReleaseSides release={{ ...base, state: 'promoting', canaryWeight: 100, operation: { kind: 'deployStable', version: '2.1.0', startedAt: '', errors: 0, timeoutSeconds: 600, progress: '1 of 3 replicas updated, 0 available' } }} />);
    expect(screen.getByTestId('release-phase')).toHaveTextContent('Promoting: the stable side gets 2.1.0 while the canary serves 100% (1 of 3 replicas updated, 0 available)');
    // The read-back may already name the new version on the stable side; until it is ready, it is changing.
    expect(screen.getByTestId('side-versions')).toHaveTextContent('stable 2.0.0 → 2.1.0 (rolling out) · canary 2.1.0 at 100%');
  });

  it('says which side a rollback restores, and the canary being deployed', () => {
    const restoring = { kind: 'deployStable' as const, version: '2.0.0', startedAt: '', errors: 0, timeoutSeconds: 600 };
    render(<ReleaseSides release={{ ...base, state: 'rolling_back', canaryWeight: 100, sides: { stable: '2.1.0', canary: '2.0.0', canaryUp: true }, operation: restoring }} />);
    expect(screen.getByTestId('side-versions')).toHaveTextContent('stable 2.1.0 → 2.0.0 (rolling out) · canary 2.0.0 at 100%');
  });

  it('shows the canary being deployed at 0%', () => {
    const deploying = { kind: 'deployCanary' as const, version: '2.1.0', startedAt: '', errors: 0, timeoutSeconds: 600 };
    render(<ReleaseSides release={{ ...base, state: 'deploying', canaryWeight: 0, sides: { stable: '2.0.0', canaryUp: true, canary: '2.1.0' }, operation: deploying }} />);
    expect(screen.getByTestId('side-versions')).toHaveTextContent('stable 2.0.0 · canary → 2.1.0 (rolling out) at 0%');
  });

  it('says how fast a rolled-back service recovered', () => {
    render(<ReleaseSides release={{ ...base, state: 'rolled_back', canaryWeight: 0, sides: { stable: '2.0.0', canaryUp: false }, recovery: { status: 'recovered', decidedAt: '', seconds: 1.3, summary: 'error rate 0.02%' } }} />);
    expect(screen.getByTestId('side-versions')).toHaveTextContent('stable 2.0.0 · canary scaled down');
    expect(screen.getByTestId('release-recovery')).toHaveTextContent('Recovered in 1.3 s after the rollback decision: error rate 0.02%');
  });

  it('shows nothing for a target without a deployer', () => {
    const { container } = render(<ReleaseSides release={{ ...base, deployMode: 'unmanaged' }} />);
    expect(container).toBeEmptyDOMElement();
  });
});
