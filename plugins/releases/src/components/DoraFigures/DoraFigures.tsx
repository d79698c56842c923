import { InfoCard } from '@backstage/core-components';
import { Grid, Typography } from '@material-ui/core';
import { DoraFigures as Figures } from '@release-pilot/plugin-releases-common';

/** "47 s", "12 min", "3.5 h", "2.1 d"; "-" when unknown. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

const Figure = ({ label, value, detail }: { label: string; value: string; detail: string }) => (
  <Grid item xs={6} md={4} lg={2}>
    <Typography variant="overline" color="textSecondary">
      {label}
    </Typography>
    <Typography variant="h5" data-testid={`dora-${label.toLocaleLowerCase('en-US').replace(/ /g, '-')}`}>
      {value}
    </Typography>
    <Typography variant="caption" color="textSecondary">
      {detail}
    </Typography>
  </Grid>
);

/** The four DORA figures, plus how fast bad releases were caught and rolled back. */
export const DoraFigures = ({ dora, days }: { dora: Figures; days: number }) => (
  <InfoCard title={`DORA figures, last ${days} days`}>
    <Grid container spacing={2}>
      <Figure label="Deployment frequency" value={`${dora.deploymentsPerDay.toFixed(2)}/day`} detail={`${dora.succeeded} successful releases`} />
      <Figure
        label="Change failure rate"
        value={dora.changeFailureRate === undefined ? '-' : `${(100 * dora.changeFailureRate).toFixed(1)}%`}
        detail={`${dora.rolledBack} of ${dora.finished} rolled back`}
      />
      <Figure label="Time to restore" value={formatSeconds(dora.medianTimeToRestoreSeconds)} detail="median, first traffic to weight 0" />
      <Figure label="Lead time" value={formatSeconds(dora.medianLeadTimeSeconds)} detail="median, commit to success" />
      <Figure label="Detection" value={formatSeconds(dora.medianDetectionSeconds)} detail="median, first traffic to rollback decision" />
      <Figure label="Rollback" value={formatSeconds(dora.medianRollbackSeconds)} detail="median, decision to weight 0" />
    </Grid>
  </InfoCard>
);
