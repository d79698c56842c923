import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { ReleasesApi, releasesApiRef } from '../../api';
import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { ReleasesPage } from './ReleasesPage';

jest.setTimeout(60_000);

const running = { ...rolledBackRelease(), state: 'running' as const, canaryWeight: 10, finishedAt: undefined };

async function renderPage(listReleases: jest.Mock) {
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
}

describe('ReleasesPage', () => {
  it('lists the releases in progress across the organisation, with a rollback button per row', async () => {
    const listReleases = jest.fn().mockResolvedValue({ items: [running], totalCount: 1, offset: 0, limit: 50 });
    await renderPage(listReleases);
    await waitFor(() => expect(screen.getByText('Releases in progress (1)')).toBeInTheDocument(), { timeout: 10_000 });
    expect(listReleases).toHaveBeenCalledWith({ active: true, state: undefined, owner: undefined, minRisk: undefined, limit: 50, offset: 0 });
    expect(screen.getByText('2.1.0-faulty')).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'roll back component:default/checkout' })).toBeEnabled();
  });

  it('pages through the backend: the next page asks for the next 50, and a filter goes back to the first page', async () => {
    const listReleases = jest.fn().mockImplementation(async ({ offset, limit }) => ({
      items: [{ ...running, id: `r-${offset}`, version: `1.0.${offset}` }],
      totalCount: 1000,
      offset,
      limit,
    }));
    await renderPage(listReleases);
    // material-table renders slowly in jsdom on a busy machine, and re-renders its rows (a node
    // found may be replaced a moment later): each check is retried as a whole, with generous waits.
    const shows = (text: string) => waitFor(() => expect(screen.getByText(text)).toBeInTheDocument(), { timeout: 10_000 });
    await shows('Releases in progress (1000)');
    await shows('1-50 of 1000');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await shows('1.0.50');
    expect(listReleases).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 50, offset: 50 }));
    await shows('51-100 of 1000');

    fireEvent.mouseDown(screen.getByLabelText('risk'));
    fireEvent.click(await screen.findByRole('option', { name: 'Risk 30% or more' }, { timeout: 10_000 }));
    await waitFor(() => expect(listReleases).toHaveBeenLastCalledWith(expect.objectContaining({ minRisk: 0.3, offset: 0 })), { timeout: 10_000 });
  });
});
