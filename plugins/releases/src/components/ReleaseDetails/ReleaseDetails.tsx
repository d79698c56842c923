import { ReleaseRisk } from '../ReleaseRisk';
import { InfoCard } from '@backstage/core-components';
import { Box, Divider, Typography } from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import {
  isActiveRelease,
  ReleaseDetails as ReleaseData,
  ReleaseState,
} from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import { useReleaseActions } from '../../hooks/useReleaseActions';
import { ReleaseCharts } from '../ReleaseCharts';
import { ReleaseStateChip } from '../ReleaseStateChip';
import { ReleaseStepper } from '../ReleaseStepper';
import { ReleaseSides } from '../ReleaseSides';
import { RegionGrid } from '../RegionGrid';
import { ResilienceGate } from '../ResilienceGate';
import { ReleaseTimeline } from '../ReleaseTimeline';
import { RollbackDialog } from '../RollbackDialog';
import { VerdictEvidence } from '../VerdictEvidence';
import { ReleaseActionButton } from '../ReleaseActionButton';
import { deniedReason, ReleasePermissions } from '../../hooks/useReleasePermissions';

const REASON_PREFIX: Partial<Record<ReleaseState, string>> = {
  deploying: 'Deploying: ',
  gating: 'Resilience gate: ',
  paused: 'Paused: ',
  rolling_back: 'Rolling back: ',
  rolled_back: 'Rolled back: ',
  failed: 'Failed: ',
};

/** The release being driven (or the last one): plan, progress, verdict, charts, timeline and buttons. */
export const ReleaseDetails = ({
  release,
  onChanged,
  permissions,
  owners = [],
}: {
  release: ReleaseData;
  onChanged: () => void;
  /** What the person may do (all allowed when absent). */
  permissions?: ReleasePermissions;
  /** The entity's owners, to say who may act instead. */
  owners?: string[];
}) => {
  const [confirmRollback, setConfirmRollback] = useState(false);
  const { act, busy } = useReleaseActions(release.id, onChanged);

  const { state } = release;
  const active = isActiveRelease(state);
  // A release across regions is paused and promoted region by region; here a person resumes or rolls back all of it.
  const regions = release.rollout !== undefined;
  const may = permissions ?? { loading: false, start: true, pause: true, promote: true, rollback: true };
  const title = (
    <Box display="flex" alignItems="center" style={{ gap: 12 }}>
      <span>
        {active ? 'Current release' : 'Latest release'}: {release.version}
      </span>
      <ReleaseStateChip state={state} />
    </Box>
  );

  return (
    <InfoCard title={title} subheader={`Started by ${release.createdBy} at ${new Date(release.createdAt).toLocaleString()} · plan '${release.plan.name}'`}>
      <Box display="flex" style={{ gap: 8 }} mb={2}>
        {state === 'running' && !regions && (
          <ReleaseActionButton variant="outlined" deciding={may.loading} disabled={busy} allowed={may.pause} deniedReason={deniedReason('pause releases', owners)} onClick={() => act('pause')}>
            Pause
          </ReleaseActionButton>
        )}
        {state === 'paused' && (
          <ReleaseActionButton variant="outlined" color="primary" deciding={may.loading} disabled={busy} allowed={may.pause} deniedReason={deniedReason('resume releases', owners)} onClick={() => act('resume')}>
            Resume
          </ReleaseActionButton>
        )}
        {(state === 'running' || state === 'paused') && !regions && (
          <ReleaseActionButton variant="outlined" color="primary" deciding={may.loading} disabled={busy} allowed={may.promote} deniedReason={deniedReason('promote releases', owners)} onClick={() => act('promote')}>
            Promote
          </ReleaseActionButton>
        )}
        {state === 'watching' && (
          <ReleaseActionButton variant="outlined" color="primary" deciding={may.loading} disabled={busy} allowed={may.promote} deniedReason={deniedReason('end the watch', owners)} onClick={() => act('promote', 'watch ended early')}>
            End watch
          </ReleaseActionButton>
        )}
        {(active || state === 'succeeded') && state !== 'rolling_back' && (
          <ReleaseActionButton
            variant="contained"
            style={may.rollback ? { background: '#c62828', color: '#fff' } : undefined}
            disabled={busy}
            deciding={may.loading}
            allowed={may.rollback}
            deniedReason={deniedReason('roll back releases', owners)}
            onClick={() => setConfirmRollback(true)}
          >
            {state === 'succeeded' ? 'Roll back to the previous version' : 'Rollback'}
          </ReleaseActionButton>
        )}
      </Box>
      {release.reason && state !== 'succeeded' && state !== 'pending' && state !== 'running' && (
        <Box mb={2}>
          <Alert severity={state === 'paused' || state === 'watching' ? 'warning' : 'error'} data-testid="release-reason">
            {REASON_PREFIX[state]}
            {release.reason}
          </Alert>
        </Box>
      )}
      {state === 'rolling_back' && release.routerErrorSince && (
        <Box mb={2}>
          <Alert severity="error" data-testid="rollback-pending">
            Rollback pending: router unreachable since {new Date(release.routerErrorSince).toLocaleString()} ({release.routerError}); retrying with
            backoff until it succeeds.
          </Alert>
        </Box>
      )}
      {release.risk && (
        <Box mb={2}>
          <ReleaseRisk risk={release.risk} />
        </Box>
      )}
      <RegionGrid release={release} />
      <ResilienceGate gate={release.resilience} plan={release.plan} active={state === 'gating'} />
      {!regions && <ReleaseSides release={release} />}
      {!regions && <ReleaseStepper release={release} />}
      {release.latestVerdict && (
        <Box mt={2}>
          <VerdictEvidence verdict={release.latestVerdict} />
        </Box>
      )}
      {!regions && (
        <Box mt={2}>
          <ReleaseCharts release={release} />
        </Box>
      )}
      <Box mt={2}>
        <Divider />
        <Typography variant="subtitle2" style={{ marginTop: 8 }}>Timeline</Typography>
        <ReleaseTimeline events={release.timeline} />
      </Box>
      <RollbackDialog
        open={confirmRollback}
        version={release.version}
        finished={state === 'succeeded'}
        onCancel={() => setConfirmRollback(false)}
        onConfirm={reason => {
          setConfirmRollback(false);
          act('rollback', reason);
        }}
      />
    </InfoCard>
  );
};
