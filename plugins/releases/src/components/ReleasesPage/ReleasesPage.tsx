import { Content, Header, Page, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { Grid, MenuItem, TablePagination, TextField } from '@material-ui/core';
import { usePermission } from '@backstage/plugin-permission-react';
import { ACTIVE_RELEASE_STATES, Release, releaseRollbackPermission, RELEASES_SIGNAL_CHANNEL, ReleaseState } from '@release-pilot/plugin-releases-common';
import { useCallback, useEffect, useRef, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { releasesApiRef } from '../../api';
import { POLL_INTERVAL_MS, usePolling } from '../../hooks/usePolling';
import { useReleaseActions } from '../../hooks/useReleaseActions';
import { deniedReason } from '../../hooks/useReleasePermissions';
import { ReleaseActionButton } from '../ReleaseActionButton';
import { ReleasesTable } from '../ReleasesTable';
import { RollbackDialog } from '../RollbackDialog';

const RISKS = [
  { label: 'Any risk', value: 0 },
  { label: 'Risk 10% or more', value: 0.1 },
  { label: 'Risk 30% or more', value: 0.3 },
  { label: 'Risk 50% or more', value: 0.5 },
];

/** A row's rollback button, allowed or disabled by the policy for that release's entity. */
const RowRollback = ({ release, onDone }: { release: Release; onDone: () => void }) => {
  // Only the rollback decision: a page of 50 rows asks 50 questions, not 200.
  const may = usePermission({ permission: releaseRollbackPermission, resourceRef: release.entityRef });
  const { act } = useReleaseActions(release.id, onDone);
  const [confirm, setConfirm] = useState(false);
  if (release.state === 'rolling_back') return null;
  return (
    <>
      <ReleaseActionButton
        size="small"
        variant="outlined"
        deciding={may.loading}
        allowed={may.allowed}
        deniedReason={deniedReason('roll back its releases', release.owner ? [release.owner] : [])}
        onClick={() => setConfirm(true)}
        aria-label={`roll back ${release.entityRef}`}
      >
        Roll back
      </ReleaseActionButton>
      <RollbackDialog
        open={confirm}
        version={release.version}
        onCancel={() => setConfirm(false)}
        onConfirm={async reason => {
          setConfirm(false);
          await act('rollback', reason);
        }}
      />
    </>
  );
};

/** Rows per page: the backend pages the list, so the page renders the same with 10 or 10,000 releases in progress. */
const PAGE_SIZES = [25, 50, 100];

/** The organisation's releases in progress, filterable by owner, state and risk, a page at a time. */
export const ReleasesPage = () => {
  const api = useApi(releasesApiRef);
  const catalogApi = useApi(catalogApiRef);
  const [filters, setFilters] = useState<{ owner: string; state: ReleaseState | ''; minRisk: number }>({ owner: '', state: '', minRisk: 0 });
  const { owner, state, minRisk } = filters;
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(PAGE_SIZES[1]);
  const filter = (change: Partial<typeof filters>) => {
    setFilters({ ...filters, ...change });
    setPage(0);
  };
  const groups = useAsync(
    async () =>
      (await catalogApi.getEntities({ filter: { kind: 'Group' }, fields: ['metadata.name', 'metadata.namespace'] })).items.map(
        g => `group:${g.metadata.namespace ?? 'default'}/${g.metadata.name}`,
      ),
    [catalogApi],
  );
  const list = usePolling(
    () =>
      api.listReleases({
        active: state === '' ? true : undefined,
        state: state || undefined,
        owner: owner ? [owner] : undefined,
        minRisk: minRisk || undefined,
        limit: pageSize,
        offset: page * pageSize,
      }),
    [api, owner, state, minRisk, page, pageSize],
    POLL_INTERVAL_MS,
    RELEASES_SIGNAL_CHANNEL,
  );
  // One rows' action for the page's life (material-table re-renders every row when it changes); it reloads with the latest `retry`.
  const reload = useRef(list.retry);
  reload.current = list.retry;
  const rowActions = useCallback((release: Release) => <RowRollback release={release} onDone={() => reload.current()} />, []);
  // Releases that finished can leave the page past the end: go to the last page there is.
  const total = list.value?.totalCount;
  useEffect(() => {
    if (total !== undefined && page > 0 && page * pageSize >= total) setPage(Math.max(0, Math.ceil(total / pageSize) - 1));
  }, [total, page, pageSize]);

  return (
    <Page themeId="tool">
      <Header title="Releases" subtitle="Every release in progress across the organisation" />
      <Content>
        <Grid container spacing={2}>
          <Grid item>
            <TextField select label="Owner" value={owner} onChange={e => filter({ owner: e.target.value })} style={{ minWidth: 220 }} InputLabelProps={{ shrink: true }} SelectProps={{ displayEmpty: true }} inputProps={{ 'aria-label': 'owner' }}>
              <MenuItem value="">All owners</MenuItem>
              {(groups.value ?? []).map(g => (
                <MenuItem key={g} value={g}>
                  {g.replace(/^group:default\//, '')}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item>
            <TextField select label="State" value={state} onChange={e => filter({ state: e.target.value as ReleaseState | '' })} style={{ minWidth: 180 }} InputLabelProps={{ shrink: true }} SelectProps={{ displayEmpty: true }} inputProps={{ 'aria-label': 'state' }}>
              <MenuItem value="">Any active state</MenuItem>
              {ACTIVE_RELEASE_STATES.map(s => (
                <MenuItem key={s} value={s}>
                  {s.replace('_', ' ')}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item>
            <TextField select label="Risk" value={minRisk} onChange={e => filter({ minRisk: Number(e.target.value) })} style={{ minWidth: 180 }} inputProps={{ 'aria-label': 'risk' }}>
              {RISKS.map(r => (
                <MenuItem key={r.value} value={r.value}>
                  {r.label}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item xs={12}>
            {list.error && !list.value && <ResponseErrorPanel error={list.error} />}
            {!list.value && !list.error && <Progress />}
            {list.value && (
              <>
                <ReleasesTable
                  title={`Releases in progress (${list.value.totalCount})`}
                  releases={list.value.items}
                  paging={false}
                  emptyText="No release in progress matches the filters."
                  actions={rowActions}
                />
                <TablePagination
                  component="div"
                  count={list.value.totalCount}
                  page={Math.min(page, Math.max(0, Math.ceil(list.value.totalCount / pageSize) - 1))}
                  rowsPerPage={pageSize}
                  rowsPerPageOptions={PAGE_SIZES}
                  onPageChange={(_, next) => setPage(next)}
                  onRowsPerPageChange={e => {
                    setPageSize(Number(e.target.value));
                    setPage(0);
                  }}
                />
              </>
            )}
          </Grid>
        </Grid>
      </Content>
    </Page>
  );
};
