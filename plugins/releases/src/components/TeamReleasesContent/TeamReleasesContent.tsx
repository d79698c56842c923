import { RELEASES_SIGNAL_CHANNEL } from '@release-pilot/plugin-releases-common';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InfoCard, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { Box, Grid, MenuItem, TextField } from '@material-ui/core';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { releasesApiRef } from '../../api';
import { usePolling } from '../../hooks/usePolling';
import { DoraFigures } from '../DoraFigures';
import { ReleasesTable } from '../ReleasesTable';

const PERIODS = [7, 30, 90];

/** The Releases tab of a Group: everything the group and its child groups own. */
export const TeamReleasesContent = () => {
  const { entity } = useEntity();
  const group = stringifyEntityRef(entity);
  const api = useApi(releasesApiRef);
  const [days, setDays] = useState(30);
  const overview = usePolling(() => api.teamOverview(group, days), [api, group, days], 5000, RELEASES_SIGNAL_CHANNEL);

  if (overview.error && !overview.value) return <ResponseErrorPanel error={overview.error} />;
  if (!overview.value) return <Progress />;
  const { active, history, dora, days: series, groups } = overview.value;
  const riskSeries = series.map(d => ({ day: d.day.slice(5), risk: d.meanRisk === undefined ? null : Math.round(100 * d.meanRisk) }));
  const daySeries = series.map(d => ({ day: d.day.slice(5), succeeded: d.succeeded, 'rolled back': d.rolledBack }));

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Box display="flex" justifyContent="space-between" alignItems="center">
          <span>
            Releases of everything owned by {groups.map(g => g.replace(/^group:default\//, '')).join(', ')}
          </span>
          <TextField
            select
            label="Period"
            value={days}
            onChange={e => setDays(Number(e.target.value))}
            inputProps={{ 'aria-label': 'period' }}
            style={{ minWidth: 140 }}
          >
            {PERIODS.map(p => (
              <MenuItem key={p} value={p}>
                Last {p} days
              </MenuItem>
            ))}
          </TextField>
        </Box>
      </Grid>
      <Grid item xs={12}>
        <ReleasesTable title={`Active releases (${active.length})`} releases={active} emptyText="No release in progress." />
      </Grid>
      <Grid item xs={12}>
        <DoraFigures dora={dora} days={days} />
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Releases per day">
          <div data-testid="team-releases-chart">
            <ResponsiveContainer width="100%" height={220}>
              <BarChart data={daySeries}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Bar dataKey="succeeded" stackId="a" fill="#2e7d32" isAnimationActive={false} />
                <Bar dataKey="rolled back" stackId="a" fill="#c62828" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Predicted risk over time (daily mean, %)">
          <div data-testid="team-risk-chart">
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={riskSeries}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis domain={[0, 100]} />
                <Tooltip />
                <Line dataKey="risk" stroke="#ef6c00" connectNulls dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <ReleasesTable title={`Release history (${history.length})`} releases={history} />
      </Grid>
    </Grid>
  );
};
