import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { ReleasesApi, releasesApiRef } from '../../api';
import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { ReleasesPage } from './ReleasesPage';

describe('ReleasesPage', () => {
  it('lists the releases in progress across the organisation, with a rollback button per row', async () => {
    const running = { ...rolledBackRelease(), state: 'running' as const, canaryWeight: 10, finishedAt: undefined };
    const listReleases = jest.fn().mockResolvedValue({ items: [running], totalCount: 1, offset: 0, limit: 100 });
    const getEntities = jest.fn().mockResolvedValue({ items: [{ metadata: { name: 'team-checkout', namespace: 'default' } }] });
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [releasesApiRef, { listReleases } as unknown as ReleasesApi],
          [catalogApiRef, { getEntities }],
          [permissionApiRef, mockApis.permission({ authorize: AuthorizeResult.ALLOW })],
        ]}
      >
        <ReleasesPage />
      </TestApiProvider>,
    );
    expect(await screen.findByText('Releases in progress (1)')).toBeInTheDocument();
    expect(listReleases).toHaveBeenCalledWith({ active: true, state: undefined, owner: undefined, minRisk: undefined, limit: 100 });
    expect(screen.getByText('2.1.0-faulty')).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'roll back component:default/checkout' })).toBeEnabled();
  });
});
