import { InfoCard, Progress, ResponseErrorPanel, StatusError, StatusOK, StatusPending, StatusRunning, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { Box, Chip, Grid, Step, StepLabel, Stepper, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import {
  ARGO_ROLLOUT_ACTIONS,
  ArgoAnalysisRun,
  ArgoRolloutAction,
  ArgoRolloutSide,
  ArgoRolloutView,
} from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import { releasesApiRef } from '../../api';
import { usePolling } from '../../hooks/usePolling';
import { deniedReason, ReleasePermissions } from '../../hooks/useReleasePermissions';
import { ReleaseActionButton } from '../ReleaseActionButton';

const LABELS: Record<ArgoRolloutAction, string> = {
  promote: 'Promote',
  'promote-full': 'Promote full',
  abort: 'Abort',
  retry: 'Retry',
  undo: 'Undo',
};

/** Which release permission each action needs (the backend checks the same). */
const ALLOWED: Record<ArgoRolloutAction, keyof Omit<ReleasePermissions, 'loading'>> = {
  promote: 'promote',
  'promote-full': 'promote',
  abort: 'rollback',
  undo: 'rollback',
  retry: 'start',
};

const Side = ({ title, side, weight }: { title: string; side?: ArgoRolloutSide; weight: number }) => (
  <Box data-testid={`argo-${title.toLowerCase()}`}>
    <Typography variant="subtitle2">
      {title} · {weight} % of traffic
    </Typography>
    {side ? (
      <Typography variant="body2">
        {side.images.join(', ')} · ReplicaSet {side.replicaSet}
        {side.revision !== undefined && ` (revision ${side.revision})`} · {side.ready}/{side.replicas} ready
      </Typography>
    ) : (
      <Typography variant="body2" color="textSecondary">
        none
      </Typography>
    )}
  </Box>
);

const phaseIcon = (phase: string) => {
  if (phase === 'Successful' || phase === 'Healthy') return <StatusOK />;
  if (phase === 'Failed' || phase === 'Error' || phase === 'Degraded') return <StatusError />;
  if (phase === 'Running' || phase === 'Progressing') return <StatusRunning />;
  return <StatusPending />;
};

const AnalysisRuns = ({ runs }: { runs: ArgoAnalysisRun[] }) => (
  <Table size="small" data-testid="argo-analysis">
    <TableHead>
      <TableRow>
        <TableCell>AnalysisRun</TableCell>
        <TableCell>Metric</TableCell>
        <TableCell>Measurements (newest last)</TableCell>
      </TableRow>
    </TableHead>
    <TableBody>
      {runs.flatMap(run =>
        (run.metrics.length ? run.metrics : [undefined]).map((metric, i) => (
          <TableRow key={`${run.name}-${metric?.name ?? i}`}>
            <TableCell>
              {i === 0 && (
                <>
                  {phaseIcon(run.phase)} {run.name} ({run.phase})
                </>
              )}
            </TableCell>
            <TableCell>{metric ? `${metric.name}: ${metric.phase}, ${metric.successful} passed, ${metric.failed} failed, ${metric.inconclusive} inconclusive` : run.message ?? ''}</TableCell>
            <TableCell>{metric?.measurements.map(m => `${m.value ?? '–'} (${m.phase})`).join(', ')}</TableCell>
          </TableRow>
        )),
      )}
    </TableBody>
  </Table>
);

/** The entity's Argo Rollout: where it stands in Release Pilot's words, its steps, sides and analysis, and its actions. */
export const ArgoRolloutCard = ({ entityRef, permissions, owners }: { entityRef: string; permissions: ReleasePermissions; owners: string[] }) => {
  const api = useApi(releasesApiRef);
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState<ArgoRolloutAction | undefined>();
  const [failure, setFailure] = useState<Error | undefined>();
  const state = usePolling(() => api.getArgoRollout(entityRef), [api, entityRef], 5000);
  if (state.error && !state.value) {
    return (
      <WarningPanel severity="warning" title="Argo Rollout" defaultExpanded>
        {state.error.message}
      </WarningPanel>
    );
  }
  if (!state.value) return <Progress />;
  const rollout: ArgoRolloutView = state.value.rollout;
  const act = async (action: ArgoRolloutAction) => {
    setBusy(action);
    setFailure(undefined);
    try {
      setMessage((await api.actOnArgoRollout(entityRef, action)).message);
      state.retry();
    } catch (error) {
      setFailure(error as Error);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <InfoCard title={`Argo Rollout ${rollout.namespace}/${rollout.name}`} subheader={`${rollout.strategy} · Argo Rollouts phase: ${rollout.phase}`}>
      <Grid container spacing={2} data-testid="argo-rollout">
        <Grid item xs={12}>
          <Typography variant="h6" data-testid="argo-summary">
            {rollout.summary}
          </Typography>
          {rollout.pauseConditions.map(p => (
            <Chip key={p.reason} size="small" label={`paused: ${p.reason}${p.startTime ? ` since ${new Date(p.startTime).toLocaleTimeString()}` : ''}`} />
          ))}
        </Grid>
        {rollout.steps.length > 0 && (
          <Grid item xs={12}>
            <Stepper activeStep={rollout.currentStepIndex ?? rollout.steps.length} alternativeLabel data-testid="argo-steps">
              {rollout.steps.map(step => (
                <Step key={step.index}>
                  <StepLabel>{step.text}</StepLabel>
                </Step>
              ))}
            </Stepper>
          </Grid>
        )}
        <Grid item xs={12} md={6}>
          <Side title="Stable" side={rollout.stable} weight={100 - rollout.canaryWeight} />
        </Grid>
        <Grid item xs={12} md={6}>
          <Side title="Canary" side={rollout.canary} weight={rollout.canaryWeight} />
        </Grid>
        {rollout.analysisRuns.length > 0 && (
          <Grid item xs={12}>
            <AnalysisRuns runs={rollout.analysisRuns} />
          </Grid>
        )}
        <Grid item xs={12}>
          <Box display="flex" style={{ gap: 8 }} flexWrap="wrap">
            {ARGO_ROLLOUT_ACTIONS.map(action => (
              <span key={action} title={rollout.actions[action].why}>
                <ReleaseActionButton
                  variant={action === 'promote' ? 'contained' : 'outlined'}
                  color={action === 'abort' || action === 'undo' ? 'secondary' : 'primary'}
                  disabled={!rollout.actions[action].possible || busy !== undefined}
                  deciding={permissions.loading}
                  allowed={permissions[ALLOWED[action]]}
                  deniedReason={deniedReason(`${LABELS[action].toLowerCase()} its Rollout`, owners)}
                  onClick={() => act(action)}
                  data-testid={`argo-${action}`}
                >
                  {LABELS[action]}
                </ReleaseActionButton>
              </span>
            ))}
          </Box>
        </Grid>
        {message && (
          <Grid item xs={12}>
            <Alert severity="success" data-testid="argo-message">
              {message}
            </Alert>
          </Grid>
        )}
        {failure && (
          <Grid item xs={12}>
            <ResponseErrorPanel error={failure} />
          </Grid>
        )}
      </Grid>
    </InfoCard>
  );
};
