import { Content, Header, Page, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { Grid, MenuItem, TextField } from '@material-ui/core';
import { ACTIVE_RELEASE_STATES, Release, ReleaseState } from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { releasesApiRef } from '../../api';
import { usePolling } from '../../hooks/usePolling';
import { useReleaseActions } from '../../hooks/useReleaseActions';
import { deniedReason, useReleasePermissions } from '../../hooks/useReleasePermissions';
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
  const may = useReleasePermissions(release.entityRef);
  const { act } = useReleaseActions(release.id, onDone);
  const [confirm, setConfirm] = useState(false);
  if (release.state === 'rolling_back') return null;
  return (
    <>
      <ReleaseActionButton
        size="small"
        variant="outlined"
        deciding={may.loading}
        allowed={may.rollback}
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

/** The organisation's releases in progress, filterable by owner, state and risk. */
export const ReleasesPage = () => {
  const api = useApi(releasesApiRef);
  const catalogApi = useApi(catalogApiRef);
  const [owner, setOwner] = useState('');
  const [state, setState] = useState<ReleaseState | ''>('');
  const [minRisk, setMinRisk] = useState(0);
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
        limit: 100,
      }),
    [api, owner, state, minRisk],
  );

  return (
    <Page themeId="tool">
      <Header title="Releases" subtitle="Every release in progress across the organisation" />
      <Content>
        <Grid container spacing={2}>
          <Grid item>
            <TextField select label="Owner" value={owner} onChange={e => setOwner(e.target.value)} style={{ minWidth: 220 }} InputLabelProps={{ shrink: true }} SelectProps={{ displayEmpty: true }} inputProps={{ 'aria-label': 'owner' }}>
              <MenuItem value="">All owners</MenuItem>
              {(groups.value ?? []).map(g => (
                <MenuItem key={g} value={g}>
                  {g.replace(/^group:default\//, '')}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item>
            <TextField select label="State" value={state} onChange={e => setState(e.target.value as ReleaseState | '')} style={{ minWidth: 180 }} InputLabelProps={{ shrink: true }} SelectProps={{ displayEmpty: true }} inputProps={{ 'aria-label': 'state' }}>
              <MenuItem value="">Any active state</MenuItem>
              {ACTIVE_RELEASE_STATES.map(s => (
                <MenuItem key={s} value={s}>
                  {s.replace('_', ' ')}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item>
            <TextField select label="Risk" value={minRisk} onChange={e => setMinRisk(Number(e.target.value))} style={{ minWidth: 180 }} inputProps={{ 'aria-label': 'risk' }}>
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
              <ReleasesTable
                title={`Releases in progress (${list.value.totalCount})`}
                releases={list.value.items}
                emptyText="No release in progress matches the filters."
                actions={release => <RowRollback release={release} onDone={list.retry} />}
              />
            )}
          </Grid>
        </Grid>
      </Content>
    </Page>
  );
};
