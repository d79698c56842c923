import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogContentText,
  DialogTitle,
  TextField,
} from '@material-ui/core';
import { useState } from 'react';

/** Confirms a rollback and asks why. */
export const RollbackDialog = ({
  open,
  version,
  finished = false,
  onCancel,
  onConfirm,
}: {
  open: boolean;
  version: string;
  /** The release already succeeded: rolling back returns the traffic to the previous version. */
  finished?: boolean;
  onCancel: () => void;
  onConfirm: (reason: string | undefined) => void;
}) => {
  const [reason, setReason] = useState('');
  return (
    <Dialog open={open} onClose={onCancel} fullWidth maxWidth="sm">
      <DialogTitle>Roll back {version}?</DialogTitle>
      <DialogContent>
        <DialogContentText>
          {finished
            ? `All traffic goes back to the previous version, which the target's stable side still serves (canary weight 0%).`
            : `The canary's traffic goes back to the baseline at once (canary weight 0%).`}
        </DialogContentText>
        <TextField
          fullWidth
          label="Reason"
          value={reason}
          onChange={e => setReason(e.target.value)}
          inputProps={{ 'aria-label': 'reason' }}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Cancel</Button>
        <Button
          variant="contained"
          style={{ background: '#c62828', color: '#fff' }}
          onClick={() => onConfirm(reason.trim() || undefined)}
        >
          Roll back now
        </Button>
      </DialogActions>
    </Dialog>
  );
};
