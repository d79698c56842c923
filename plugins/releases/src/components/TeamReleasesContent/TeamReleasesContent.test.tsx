import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { TeamOverview } from '@release-pilot/plugin-releases-common';
import { ReleasesApi, releasesApiRef } from '../../api';
import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { TeamReleasesContent } from './TeamReleasesContent';

const group: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: 'team-checkout', namespace: 'default' },
  spec: { type: 'team', children: [] },
};

const overview: TeamOverview = {
  group: 'group:default/team-checkout',
  groups: ['group:default/team-checkout'],
  from: '2026-11-06T00:00:00.000Z',
  to: '2026-12-06T00:00:00.000Z',
  active: [],
  history: [rolledBackRelease()],
  dora: {
    deploymentsPerDay: 1.5,
    changeFailureRate: 0.1,
    medianTimeToRestoreSeconds: 47,
    medianDetectionSeconds: 2,
    medianRollbackSeconds: 1,
    finished: 50,
    succeeded: 45,
    rolledBack: 5,
  },
  days: [{ day: '2026-12-05', succeeded: 2, rolledBack: 1, meanRisk: 0.2 }],
};

describe('TeamReleasesContent', () => {
  it("shows the team's DORA figures, its active releases and its history, for the chosen period", async () => {
    const teamOverview = jest.fn().mockResolvedValue(overview);
    await renderInTestApp(
      <TestApiProvider apis={[[releasesApiRef, { teamOverview } as unknown as ReleasesApi]]}>
        <EntityProvider entity={group}>
          <TeamReleasesContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(await screen.findByText('DORA figures, last 30 days')).toBeInTheDocument();
    expect(teamOverview).toHaveBeenCalledWith('group:default/team-checkout', 30);
    expect(screen.getByTestId('dora-deployment-frequency')).toHaveTextContent('1.50/day');
    expect(screen.getByTestId('dora-change-failure-rate')).toHaveTextContent('10.0%');
    expect(screen.getByTestId('dora-time-to-restore')).toHaveTextContent('47 s');
    expect(screen.getByTestId('dora-lead-time')).toHaveTextContent('-');
    expect(screen.getByText('Active releases (0)')).toBeInTheDocument();
    expect(screen.getByText('No release in progress.')).toBeInTheDocument();
    expect(screen.getByText('Release history (1)')).toBeInTheDocument();
    expect(screen.getByText('2.1.0-faulty')).toBeInTheDocument();
  });
});
