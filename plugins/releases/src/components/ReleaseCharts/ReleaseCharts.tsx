import { Grid, Typography } from '@material-ui/core';
import { ReleaseDetails } from '@release-pilot/plugin-releases-common';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { ChartMarker, ChartPoint, toChartMarkers, toChartPoints } from './chartData';

const CANARY = '#e53935';
const BASELINE = '#1e88e5';

const MetricChart = ({
  title,
  points,
  markers,
  canaryKey,
  baselineKey,
  unit,
}: {
  title: string;
  points: ChartPoint[];
  markers: ChartMarker[];
  canaryKey: keyof ChartPoint;
  baselineKey: keyof ChartPoint;
  unit: string;
}) => (
  <>
    <Typography variant="subtitle2">{title}</Typography>
    <ResponsiveContainer width="100%" height={220}>
      <LineChart data={points} margin={{ top: 16, right: 16, bottom: 0, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} unit="s" />
        <YAxis unit={unit} width={70} />
        <Tooltip />
        <Legend />
        {markers.map(m => (
          <ReferenceLine
            key={`${m.kind}-${m.t}-${m.label}`}
            x={m.t}
            stroke={{ rollback: CANARY, lifecycle: '#2e7d32', step: '#9e9e9e' }[m.kind]}
            strokeDasharray={m.kind === 'rollback' ? undefined : '4 4'}
            // A moment after the last sample (the promotion) widens the chart rather than vanish.
            ifOverflow="extendDomain"
            label={{ value: m.label, position: m.kind === 'rollback' ? 'insideTopRight' : 'insideTopLeft', fontSize: 11 }}
          />
        ))}
        <Line type="linear" dataKey={canaryKey} name="canary" stroke={CANARY} dot={false} isAnimationActive={false} connectNulls />
        <Line type="linear" dataKey={baselineKey} name="baseline" stroke={BASELINE} dot={false} isAnimationActive={false} connectNulls />
      </LineChart>
    </ResponsiveContainer>
  </>
);

/** Canary vs baseline error rate and p95 latency over time, with step boundaries and the rollback. */
export const ReleaseCharts = ({ release }: { release: ReleaseDetails }) => {
  if (release.samples.length === 0) {
    return <Typography variant="body2">No metric samples yet.</Typography>;
  }
  const points = toChartPoints(release);
  const markers = toChartMarkers(release);
  return (
    <Grid container spacing={2} data-testid="release-charts">
      <Grid item xs={12} md={6}>
        <MetricChart title="Error rate" points={points} markers={markers} canaryKey="canaryErrorRate" baselineKey="baselineErrorRate" unit="%" />
      </Grid>
      <Grid item xs={12} md={6}>
        <MetricChart title="p95 latency" points={points} markers={markers} canaryKey="canaryP95" baselineKey="baselineP95" unit="ms" />
      </Grid>
    </Grid>
  );
};
