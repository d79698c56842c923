import {
  Box,
  Button,
  Checkbox,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControlLabel,
  MenuItem,
  TextField,
  Typography,
} from '@material-ui/core';
import { useApi } from '@backstage/core-plugin-api';
import { Alert } from '@material-ui/lab';
import { describeDetectableEffect, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { releasesApiRef } from '../../api';
import { useRiskPreview } from '../../hooks/useRiskPreview';
import { ReleaseRisk } from '../ReleaseRisk';

const numberOrUndefined = (text: string) => (text.trim() === '' || !Number.isFinite(Number(text)) ? undefined : Number(text));

/**
 * Asks for a version, optionally the change's size (the risk model's main inputs) and a plan, then
 * starts the release. Without a chosen plan the backend picks one from the predicted risk. A
 * release the risk gate blocks shows why, and can be started anyway with a reason (if allowed).
 */
export const StartReleaseDialog = ({
  open,
  entityRef,
  defaultPlan,
  onClose,
  onStarted,
}: {
  open: boolean;
  entityRef: string;
  /** The plan the entity's annotation names, if any. */
  defaultPlan?: string;
  onClose: () => void;
  onStarted: () => void;
}) => {
  const api = useApi(releasesApiRef);
  const plans = useAsync(() => api.listPlans(), [api]);
  const [version, setVersion] = useState('');
  const [planName, setPlanName] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>();
  const [blocked, setBlocked] = useState(false);
  const [overrideReason, setOverrideReason] = useState('');
  const [linesChanged, setLinesChanged] = useState('');
  const [filesChanged, setFilesChanged] = useState('');
  const [breaking, setBreaking] = useState(false);
  const [busy, setBusy] = useState(false);

  const metadata = {
    ...(numberOrUndefined(linesChanged) !== undefined && { linesAdded: numberOrUndefined(linesChanged) }),
    ...(numberOrUndefined(filesChanged) !== undefined && { filesChanged: numberOrUndefined(filesChanged) }),
    ...(breaking && { breaking: true }),
  };
  // A preview of the risk and the plan it shapes, refreshed as the person types.
  const assessment = useRiskPreview(
    { entityRef, version: version.trim() || 'preview', ...(planName !== undefined && { plan: planName }), metadata },
    open,
  );

  const chosen = planName ?? defaultPlan ?? plans.value?.defaultPlan;
  // The admitted plan when there is one: shaped by the risk, its gate's experiments filled in from the entity or target.
  const plan: ReleasePlan | undefined =
    assessment && (planName === undefined || assessment.plan.name.startsWith(planName)) ? assessment.plan : plans.value?.plans.find(p => p.name === chosen);
  const gateWords = (gate: NonNullable<ReleasePlan['gate']>) =>
    gate.experiments.length ? gate.experiments.map(e => `${e.name} (${e.durationSeconds}s)`).join(', ') : "the entity's or the target's experiments";

  const start = async (override?: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await api.createRelease({
        entityRef,
        version: version.trim(),
        // Only a plan the person picked; otherwise the backend shapes the entity's plan by the risk.
        ...(planName !== undefined && { plan: planName }),
        metadata,
        ...(override !== undefined && { riskOverride: { reason: override } }),
      });
      setVersion('');
      setBlocked(false);
      setOverrideReason('');
      onStarted();
    } catch (e) {
      const body = (e as { body?: { error?: { name?: string; message?: string } } }).body;
      setBlocked(body?.error?.name === 'ReleaseBlockedError');
      setError(body?.error?.message ?? (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm">
      <DialogTitle>Start a release</DialogTitle>
      <DialogContent>
        {error && (
          <Alert severity={blocked ? 'warning' : 'error'} data-testid="start-error">
            {error}
          </Alert>
        )}
        {blocked && (
          <TextField
            fullWidth
            margin="normal"
            label="Reason to release anyway (needs the risk override permission)"
            value={overrideReason}
            onChange={e => setOverrideReason(e.target.value)}
            inputProps={{ 'aria-label': 'override reason' }}
          />
        )}
        <TextField
          fullWidth
          margin="normal"
          label="Version"
          placeholder="e.g. 2.4.0"
          value={version}
          onChange={e => setVersion(e.target.value)}
          inputProps={{ 'aria-label': 'version' }}
        />
        <TextField
          margin="normal"
          label="Lines changed (optional)"
          value={linesChanged}
          onChange={e => setLinesChanged(e.target.value)}
          inputProps={{ 'aria-label': 'lines changed', inputMode: 'numeric' }}
          style={{ marginRight: 16 }}
        />
        <TextField
          margin="normal"
          label="Files changed (optional)"
          value={filesChanged}
          onChange={e => setFilesChanged(e.target.value)}
          inputProps={{ 'aria-label': 'files changed', inputMode: 'numeric' }}
        />
        <FormControlLabel
          control={<Checkbox checked={breaking} onChange={e => setBreaking(e.target.checked)} />}
          label="Breaking change"
        />
        <TextField
          select
          fullWidth
          margin="normal"
          id="release-plan"
          label="Plan"
          value={chosen ?? ''}
          onChange={e => setPlanName(e.target.value)}
        >
          {(plans.value?.plans ?? []).map(p => (
            <MenuItem key={p.name} value={p.name}>
              {p.name}
            </MenuItem>
          ))}
        </TextField>
        {planName === undefined && !assessment && (
          <Typography variant="body2" color="textSecondary">
            Release Pilot adjusts this plan to the predicted risk: faster when low, smaller steps with a manual gate
            before 50 % when high or when traffic is far above the usual.
          </Typography>
        )}
        {assessment && (
          <Box my={1}>
            <ReleaseRisk risk={assessment.risk} />
          </Box>
        )}
        {plan && (
          <Typography variant="body2" data-testid="plan-preview">
            {plan.gate ? `First a resilience gate at 0%: ${gateWords(plan.gate)}, canary against stable; then canary weights ` : 'Canary weights '}
            {plan.steps
              .map(s => `${s.approval ? 'gate, ' : ''}${s.weight}% (${s.minDurationSeconds}s, ${s.minCanaryRequests} req)`)
              .join(' → ')}
            {plan.warmUpSeconds ? `; the first ${plan.warmUpSeconds}s are a warm-up, not judged` : ''}
          </Typography>
        )}
        {assessment?.detectable && (
          <Alert severity={(assessment.detectable.ratio ?? Infinity) > 2 ? 'warning' : 'info'} data-testid="detectable-effect">
            {describeDetectableEffect(assessment.detectable)}.
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        {blocked ? (
          <Button color="secondary" variant="contained" disabled={busy || overrideReason.trim().length < 3} onClick={() => start(overrideReason.trim())}>
            Start anyway
          </Button>
        ) : (
          <Button color="primary" variant="contained" disabled={busy || !version.trim()} onClick={() => start()}>
            Start
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
};
