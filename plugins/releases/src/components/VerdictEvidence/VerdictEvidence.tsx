import {
  Box,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@material-ui/core';
import { Verdict, VerdictOutcome } from '@release-pilot/plugin-releases-common';
import { describeEvidence, formatMetric, formatRatio, metricLabel } from './format';

const OUTCOME_COLORS: Record<VerdictOutcome, string> = {
  pass: '#2e7d32',
  warn: '#ef6c00',
  fail: '#c62828',
  inconclusive: '#757575',
};

/** The judge's latest verdict: outcome, summary and the evidence per metric. */
export const VerdictEvidence = ({ verdict }: { verdict: Verdict }) => {
  const watch = verdict.kind === 'watch';
  return (
  <Box>
    <Typography variant="subtitle2" data-testid="verdict-summary">
      {watch ? 'Post-release watch' : 'Judge'}:{' '}
      <span style={{ color: OUTCOME_COLORS[verdict.outcome], fontWeight: 600 }}>
        {verdict.outcome}
      </span>{' '}
      — {verdict.summary}
    </Typography>
    <Table size="small" aria-label="verdict evidence">
      <TableHead>
        <TableRow>
          <TableCell>Metric</TableCell>
          <TableCell align="right">{watch ? 'Now' : 'Canary'}</TableCell>
          <TableCell align="right">{watch ? 'Usual at this time' : 'Baseline'}</TableCell>
          <TableCell align="right">Ratio</TableCell>
          <TableCell>Outcome</TableCell>
          <TableCell>Why</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {verdict.evidence.map(e => (
          <TableRow key={`${e.metric}:${e.quantile ?? ''}`}>
            <TableCell>{metricLabel(e.metric, e.quantile)}</TableCell>
            <TableCell align="right">{formatMetric(e.metric, e.canary)}</TableCell>
            <TableCell align="right">{formatMetric(e.metric, e.baseline)}</TableCell>
            <TableCell align="right">{formatRatio(e)}</TableCell>
            <TableCell style={{ color: OUTCOME_COLORS[e.outcome] }}>{e.outcome}</TableCell>
            <TableCell>
              {describeEvidence(e) && (
                <Typography variant="body2" data-testid={`evidence-${e.metric}${e.quantile !== undefined && e.quantile !== 0.95 ? `-p${Math.round(e.quantile * 100)}` : ''}`}>
                  {describeEvidence(e)}
                </Typography>
              )}
              <Typography variant="caption">
                {e.rule} (
                {watch
                  ? `${e.canaryRequests.toLocaleString('en-US')} requests now; ${e.baselineRequests.toLocaleString('en-US')} history buckets`
                  : `${e.canaryRequests.toLocaleString('en-US')} canary / ${e.baselineRequests.toLocaleString('en-US')} baseline requests`}
                )
              </Typography>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  </Box>
  );
};
