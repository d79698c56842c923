import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  MenuItem,
  TextField,
  Typography,
} from '@material-ui/core';
import { useApi } from '@backstage/core-plugin-api';
import { Alert } from '@material-ui/lab';
import { ReleasePlan } from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { releasesApiRef } from '../../api';

/** Asks for a version and a plan (with a preview of its steps), then starts the release. */
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
  const [busy, setBusy] = useState(false);

  const chosen = planName ?? defaultPlan ?? plans.value?.defaultPlan;
  const plan: ReleasePlan | undefined = plans.value?.plans.find(p => p.name === chosen);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.createRelease({ entityRef, version: version.trim(), plan: chosen });
      setVersion('');
      onStarted();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm">
      <DialogTitle>Start a release</DialogTitle>
      <DialogContent>
        {error && <Alert severity="error">{error}</Alert>}
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
          select
          fullWidth
          margin="normal"
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
        {plan && (
          <Typography variant="body2" data-testid="plan-preview">
            Canary weights{' '}
            {plan.steps
              .map(s => `${s.weight}% (${s.minDurationSeconds}s, ${s.minCanaryRequests} req)`)
              .join(' → ')}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button color="primary" variant="contained" disabled={busy || !version.trim()} onClick={start}>
          Start
        </Button>
      </DialogActions>
    </Dialog>
  );
};
