import { Chip } from '@material-ui/core';
import { ReleaseState } from '@release-pilot/plugin-releases-common';

const COLORS: Record<ReleaseState, { background: string; color: string }> = {
  pending: { background: '#e0e0e0', color: '#333' },
  deploying: { background: '#5e35b1', color: '#fff' },
  gating: { background: '#3949ab', color: '#fff' },
  running: { background: '#1e88e5', color: '#fff' },
  paused: { background: '#fb8c00', color: '#fff' },
  watching: { background: '#00897b', color: '#fff' },
  promoting: { background: '#2e7d32', color: '#fff' },
  rolling_back: { background: '#e53935', color: '#fff' },
  succeeded: { background: '#43a047', color: '#fff' },
  rolled_back: { background: '#c62828', color: '#fff' },
  failed: { background: '#6a1b9a', color: '#fff' },
};

/** A release state as a coloured chip, e.g. "rolled back". */
export const ReleaseStateChip = ({ state }: { state: ReleaseState }) => (
  <Chip
    size="small"
    label={state.replace('_', ' ')}
    style={COLORS[state]}
    data-testid="release-state"
  />
);
