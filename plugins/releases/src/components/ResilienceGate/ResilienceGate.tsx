import { Box, Chip, Paper, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@material-ui/core';
import { ExperimentState, faultFigures, GateState, PhaseFigures, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { GateCharts } from './GateCharts';

const PHASE: Record<ExperimentState['phase'], string> = { steady: 'steady state', fault: 'fault on', recovery: 'recovering', done: 'done' };
const VERDICT_COLOR: Record<string, { background: string; color: string }> = {
  passed: { background: '#43a047', color: '#fff' },
  failed: { background: '#c62828', color: '#fff' },
  inconclusive: { background: '#fb8c00', color: '#fff' },
};

const rate = (f: PhaseFigures) => (f.requests > 0 ? `${((100 * f.errors) / f.requests).toFixed(f.errors / f.requests < 0.01 ? 2 : 1)} %` : '–');
const ms = (x?: number) => (x === undefined || Number.isNaN(x) ? '–' : `${Math.round(x).toLocaleString('en-US')} ms`);
/** Seconds to recover, once the fault is over; "not back" when the experiment ended without it. */
const recovered = (state: ExperimentState, side: 'canary' | 'stable') => {
  const seconds = state.recovery[side].seconds;
  if (seconds !== undefined) return `${seconds.toFixed(0)} s`;
  return state.faultEnded && state.phase === 'done' ? 'not back' : '–';
};

/** One experiment: canary and stable side by side under the same fault, and the verdict with its evidence. */
const Experiment = ({ state, index, running, quantile }: { state: ExperimentState; index: number; running: boolean; quantile: number }) => {
  const figures = faultFigures(state, quantile);
  const started = state.phase !== 'steady' || state.phaseSeconds > 0 || state.verdict;
  const pLabel = `p${Math.round(quantile * 100)}`;
  let status = 'waiting';
  if (state.verdict) status = state.verdict;
  else if (running && started) status = PHASE[state.phase];
  return (
    <Paper variant="outlined" style={{ padding: 8, minWidth: 340, flex: 1 }} data-testid={`experiment-${index + 1}`}>
      <Box display="flex" alignItems="center" justifyContent="space-between" style={{ gap: 8 }}>
        <Typography variant="body2">
          <b>{state.experiment.name}</b> · {state.experiment.durationSeconds} s
        </Typography>
        <Chip size="small" label={status} style={VERDICT_COLOR[status]} data-testid="experiment-status" />
      </Box>
      {started && (
        <Table size="small" data-testid="experiment-figures">
          <TableHead>
            <TableRow>
              <TableCell>under the fault</TableCell>
              <TableCell align="right">canary</TableCell>
              <TableCell align="right">stable</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            <TableRow>
              <TableCell>requests</TableCell>
              <TableCell align="right">{figures.canary.requests.toLocaleString('en-US')}</TableCell>
              <TableCell align="right">{figures.stable.requests.toLocaleString('en-US')}</TableCell>
            </TableRow>
            <TableRow>
              <TableCell>error rate</TableCell>
              <TableCell align="right">{rate(figures.canary)}</TableCell>
              <TableCell align="right">{rate(figures.stable)}</TableCell>
            </TableRow>
            <TableRow>
              <TableCell>{pLabel} latency</TableCell>
              <TableCell align="right">{ms(figures.canary.quantileMs)}</TableCell>
              <TableCell align="right">{ms(figures.stable.quantileMs)}</TableCell>
            </TableRow>
            <TableRow>
              <TableCell>recovered after</TableCell>
              <TableCell align="right">{recovered(state, 'canary')}</TableCell>
              <TableCell align="right">{recovered(state, 'stable')}</TableCell>
            </TableRow>
          </TableBody>
        </Table>
      )}
      <GateCharts series={state.series} quantileLabel={pLabel} />
      {state.evidence.map((line, i) => (
        <Typography key={i} variant="caption" display="block" color={state.verdict === 'failed' && i === state.evidence.length - 1 ? 'error' : 'textSecondary'}>
          {line}
        </Typography>
      ))}
    </Paper>
  );
};

/**
 * The plan's first stage: the resilience gate's experiments, each with canary and stable side by
 * side under the same fault and the verdict with its evidence.
 */
export const ResilienceGate = ({ gate, plan, active }: { gate?: GateState; plan: ReleasePlan; active: boolean }) => {
  if (!gate || !plan.gate) return null;
  const verdict = gate.verdict ? ` · ${gate.verdict}` : '';
  return (
    <Box mb={2} data-testid="resilience-gate">
      <Typography variant="subtitle2">
        Resilience gate: {gate.experiments.length} experiment{gate.experiments.length === 1 ? '' : 's'} on the canary and a stable instance before any production traffic
        {verdict}
      </Typography>
      <Box display="flex" mt={1} style={{ gap: 12, overflowX: 'auto' }}>
        {gate.experiments.map((e, i) => (
          <Experiment key={e.experiment.name} state={e} index={i} running={active && i === gate.index && !gate.verdict} quantile={plan.gate!.quantile} />
        ))}
      </Box>
    </Box>
  );
};
