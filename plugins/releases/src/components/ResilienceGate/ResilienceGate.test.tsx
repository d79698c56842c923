import { render, screen, within } from '@testing-library/react';
import { ExperimentState, GateState, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { faultWindow, gateChartRows } from './GateCharts';
import { ResilienceGate } from './ResilienceGate';

const latency = { name: 'dependency latency +200 ms', fault: 'dependencyLatency' as const, intensity: 200, durationSeconds: 20, recoverySeconds: 30 };
const kill = { name: 'instance kill', fault: 'instanceKill' as const, durationSeconds: 5, recoverySeconds: 30 };
const plan: ReleasePlan = {
  name: 'resilient',
  steps: [{ weight: 100, minDurationSeconds: 5, minCanaryRequests: 0 }],
  gate: { experiments: [latency, kill], margins: { errorRatio: 1.5, latency: 0.2, slowRatio: 1.5, recoverySeconds: 10 }, quantile: 0.95, steadySeconds: 10, calibrationSeconds: 5, minRequests: 100, alpha: 0.01 },
};
const empty = { requests: 0, errors: 0, latenciesMs: [] };
const test0 = { logLikelihood: [], totals: { canaryEvents: 0, canaryRequests: 0, baselineEvents: 0, baselineRequests: 0 } };
const experiment = (over: Partial<ExperimentState>): ExperimentState => ({
  experiment: latency, phase: 'steady', phaseSeconds: 0, steady: { canary: empty, stable: empty }, fault: { canary: empty, stable: empty },
  calibration: [], errorTest: test0, slowTest: test0, recovery: { canary: { streak: 0 }, stable: { streak: 0 } }, evidence: [], ...over,
});

describe('ResilienceGate', () => {
  it('shows a failed experiment with canary and stable side by side under the fault, and its evidence', () => {
    const failed = experiment({
      phase: 'done',
      verdict: 'failed',
      fault: {
        canary: { requests: 100, errors: 31, latenciesMs: Array.from({ length: 100 }, (_, i) => (i < 80 ? 240 : 1000)) },
        stable: { requests: 100, errors: 0, latenciesMs: Array.from({ length: 100 }, (_, i) => 220 + (i % 30)) },
      },
      evidence: ["Errors under dependency latency +200 ms: canary 31.0 % vs stable 0.00 %, at least 8.00x the stable side's rate with 99.8 % confidence (allowed: 1.5x)"],
    });
    const gate: GateState = { experiments: [failed, experiment({ experiment: kill })], index: 0, verdict: 'failed' };
    render(<ResilienceGate gate={gate} plan={plan} active={false} />);
    expect(screen.getByTestId('resilience-gate')).toHaveTextContent('Resilience gate: 2 experiments on the canary and a stable instance before any production traffic · failed');
    const first = screen.getByTestId('experiment-1');
    expect(within(first).getByTestId('experiment-status')).toHaveTextContent('failed');
    const rows = within(first).getAllByRole('row').map(r => r.textContent);
    expect(rows).toEqual([
      'under the faultcanarystable',
      'requests100100',
      'error rate31.0 %0.00 %',
      'p95 latency1,000 ms248 ms',
      // It failed during the fault: its recovery was never measured.
      'recovered after––',
    ]);
    expect(first).toHaveTextContent('at least 8.00x the stable side');
    // The next experiment never ran.
    expect(within(screen.getByTestId('experiment-2')).getByTestId('experiment-status')).toHaveTextContent('waiting');
    expect(within(screen.getByTestId('experiment-2')).queryByTestId('experiment-figures')).toBeNull();
  });

  it('charts both sides per tick through the fault, with the fault window shaded', () => {
    const series = Array.from({ length: 12 }, (_, i) => ({
      t: i + 1,
      phase: (['steady', 'fault', 'recovery'] as const)[Number(i >= 3) + Number(i >= 9)],
      canary: { errorRate: i >= 3 && i < 9 ? 0.4 : 0, latencyMs: i >= 3 && i < 9 ? 900 : 12 },
      stable: { errorRate: 0, latencyMs: i >= 3 && i < 9 ? 230 : 11 },
    }));
    const gate: GateState = { experiments: [experiment({ phase: 'recovery', phaseSeconds: 3, series })], index: 0 };
    render(<ResilienceGate gate={gate} plan={plan} active />);
    expect(within(screen.getByTestId('experiment-1')).getByTestId('experiment-charts')).toHaveTextContent('error rate');
    expect(faultWindow(series)).toEqual({ from: 3, to: 9 });
    expect(gateChartRows(series)[4]).toEqual({ t: 5, canaryErrors: 40, stableErrors: 0, canaryLatency: 900, stableLatency: 230 });
  });

  it('says which phase the running experiment is in, and shows nothing for a plan without a gate', () => {
    const gate: GateState = { experiments: [experiment({ phase: 'fault', phaseSeconds: 7 }), experiment({ experiment: kill })], index: 0 };
    const { rerender } = render(<ResilienceGate gate={gate} plan={plan} active />);
    expect(within(screen.getByTestId('experiment-1')).getByTestId('experiment-status')).toHaveTextContent('fault on');
    rerender(<ResilienceGate gate={undefined} plan={{ ...plan, gate: undefined }} active />);
    expect(screen.queryByTestId('resilience-gate')).toBeNull();
  });
});
