import { Box, Typography } from '@material-ui/core';
import { GatePoint } from '@release-pilot/plugin-releases-common';
import { CartesianGrid, Line, LineChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

const CANARY = '#e53935';
const STABLE = '#1e88e5';

interface Row {
  t: number;
  canaryErrors?: number;
  stableErrors?: number;
  canaryLatency?: number;
  stableLatency?: number;
}

/** The chart rows: error rates in %, latencies in ms, per tick. */
export function gateChartRows(series: GatePoint[]): Row[] {
  const pct = (x?: number) => (x === undefined ? undefined : Math.round(x * 1000) / 10);
  return series.map(p => ({
    t: p.t,
    canaryErrors: pct(p.canary.errorRate),
    stableErrors: pct(p.stable.errorRate),
    canaryLatency: p.canary.latencyMs,
    stableLatency: p.stable.latencyMs,
  }));
}

/** Where the fault was on: from the tick before its first point to its last point. */
export function faultWindow(series: GatePoint[]): { from: number; to: number } | undefined {
  const index = series.findIndex(p => p.phase === 'fault');
  if (index < 0) return undefined;
  const last = series.map(p => p.phase).lastIndexOf('fault');
  return { from: index > 0 ? series[index - 1].t : 0, to: series[last].t };
}

const Chart = ({ title, rows, fault, keys, unit }: { title: string; rows: Row[]; fault?: { from: number; to: number }; keys: [keyof Row, keyof Row]; unit: string }) => (
  <Box flex={1} minWidth={140}>
    <Typography variant="caption" color="textSecondary">
      {title}
    </Typography>
    <ResponsiveContainer width="100%" height={110}>
      <LineChart data={rows} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} unit="s" tick={{ fontSize: 10 }} />
        <YAxis unit={unit} width={52} tick={{ fontSize: 10 }} />
        <Tooltip />
        {fault && <ReferenceArea x1={fault.from} x2={fault.to} fill="#ffcc80" fillOpacity={0.35} ifOverflow="extendDomain" />}
        <Line type="linear" dataKey={keys[0]} name="canary" stroke={CANARY} dot={false} isAnimationActive={false} connectNulls />
        <Line type="linear" dataKey={keys[1]} name="stable" stroke={STABLE} dot={false} isAnimationActive={false} connectNulls />
      </LineChart>
    </ResponsiveContainer>
  </Box>
);

/** An experiment's error rate and latency quantile per tick, canary and stable, with the fault's window shaded. */
export const GateCharts = ({ series, quantileLabel }: { series?: GatePoint[]; quantileLabel: string }) => {
  if (!series || series.length < 2) return null;
  const rows = gateChartRows(series);
  const fault = faultWindow(series);
  return (
    <Box display="flex" style={{ gap: 8 }} data-testid="experiment-charts">
      <Chart title="error rate (canary red, stable blue; fault shaded)" rows={rows} fault={fault} keys={['canaryErrors', 'stableErrors']} unit=" %" />
      <Chart title={`${quantileLabel} latency`} rows={rows} fault={fault} keys={['canaryLatency', 'stableLatency']} unit=" ms" />
    </Box>
  );
};
