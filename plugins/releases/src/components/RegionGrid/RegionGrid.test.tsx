import { render, screen, within } from '@testing-library/react';
import { Release, ReleaseDetails } from '@release-pilot/plugin-releases-common';
import { RegionGrid } from './RegionGrid';

const base = {
  entityRef: 'component:default/storefront', version: '2.1.0', target: 'simulator-regions',
  plan: { name: 'p', steps: [{ weight: 10, minDurationSeconds: 1, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 1, minCanaryRequests: 0 }] },
  currentStep: 0, stepCanaryRequests: 0, consecutiveProviderErrors: 0, revision: 1, createdBy: 'user:default/alice',
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', metadata: {}, previousVersion: '2.0.0',
};

const region = (name: string, state: Release['state'], canaryWeight: number, stable: string): Release => ({
  ...base, id: `r-${name}`, state, canaryWeight, region: name, parentId: 'p', deployMode: 'deployer', sides: { stable, canary: '2.1.0', canaryUp: true },
});

const parent: ReleaseDetails = {
  ...base, id: 'p', state: 'running', canaryWeight: 0, steps: [], timeline: [], samples: [],
  rollout: {
    plan: {
      waves: [['us-west-2'], ['eu-west-1', 'ap-south-1']],
      bakeSeconds: 0,
      order: [{ region: 'us-west-2', reason: 'first: the lowest traffic relative to its daily average (680 requests/s now, 42 % of its daily average 1,600 requests/s)' }],
    },
    failurePolicy: 'rollbackAll', state: 'running', wave: 1,
    regions: {
      'us-west-2': { region: 'us-west-2', wave: 0, state: 'succeeded', weight: 0 },
      'eu-west-1': { region: 'eu-west-1', wave: 1, state: 'running', weight: 50 },
      'ap-south-1': { region: 'ap-south-1', wave: 1, state: 'waiting', weight: 0 },
    },
  },
  regionReleases: [region('us-west-2', 'succeeded', 0, '2.1.0'), region('eu-west-1', 'running', 50, '2.0.0')],
};

describe('RegionGrid', () => {
  it('shows the waves as columns, each region with its state, weight and version, and why the first region is first', () => {
    render(<RegionGrid release={parent} />);
    expect(screen.getByTestId('region-grid')).toHaveTextContent('3 regions in 2 waves · wave 2 of 2');
    expect(screen.getByTestId('region-order')).toHaveTextContent('us-west-2 first: the lowest traffic relative to its daily average');
    expect(within(screen.getByTestId('wave-1')).getByTestId('region-us-west-2')).toHaveTextContent('us-west-2succeededstable 2.1.0');
    expect(screen.getByTestId('region-eu-west-1')).toHaveTextContent('stable 2.0.0 · canary 2.1.0 at 50%');
    expect(within(screen.getByTestId('wave-2')).getByTestId('region-ap-south-1')).toHaveTextContent('ap-south-1waitingstable 2.0.0');
  });

  it('shows nothing for a release in one place', () => {
    const { container } = render(<RegionGrid release={{ ...parent, rollout: undefined }} />);
    expect(container).toBeEmptyDOMElement();
  });
});
