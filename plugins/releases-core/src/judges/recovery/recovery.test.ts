import { emptyTrafficStats, HistoryBucket, TrafficStats } from '@release-pilot/plugin-releases-common';
import { drawTraffic } from '../../simulation/drawTraffic';
import { SeededRandom } from '../../simulation/random';
import { makeStats } from '../../testUtils/fixtures';
import { WatchJudge } from '../watch/WatchJudge';
import { recoveryLevel } from './recovery';

const watch = new WatchJudge();
const DECIDED = new Date('2026-11-08T12:00:00Z');
const random = new SeededRandom(7);

/** The service at 0.02 % errors, p95 145 ms and 200 requests/s, over `seconds`. */
function healthy(seconds: number, profile = { errorRate: 0.0002, latencyMs: { p50: 90, p95: 145 } }): TrafficStats {
  const stats = emptyTrafficStats();
  drawTraffic(random, stats, random.poisson(200 * seconds), profile);
  return stats;
}

/** Seven days of it in 5-minute buckets before the rollback decision. */
const HISTORY: HistoryBucket[] = Array.from({ length: 7 * 288 }, (_, i) => {
  const to = DECIDED.getTime() - i * 300_000;
  return { from: new Date(to - 300_000).toISOString(), to: new Date(to).toISOString(), stats: healthy(300) };
});

describe('the recovery check against the watch\'s model of the service\'s history', () => {
  const level = recoveryLevel(watch, { history: HISTORY, at: DECIDED })!;

  it('takes the usual error rate and latency at that time of day from the history', () => {
    expect(level).toMatchObject({ source: 'history', basis: HISTORY.length, seasonal: true });
    expect(level.errorRate![0]).toBeCloseTo(0.0002, 4);
    expect(level.p95LatencyMs![0]).toBeGreaterThan(120);
    expect(level.p95LatencyMs![0]).toBeLessThan(170);
  });

  it('is recovered when the service is back at its usual level, and says how it compares', () => {
    const verdict = watch.atLevel(healthy(15), 15, level);
    expect(verdict.recovered).toBe(true);
    expect(verdict.summary).toMatch(
      /^error rate 0\.\d+% \(usually 0\.02\d*% at this time of day\), latency p95 1\d\d ms \(usually p95 1\d\d ms at this time of day\) over \d+ requests; yardstick: 7-day history$/,
    );
  });

  it('is not recovered while errors or latency stay where the watch would call them anomalous', () => {
    expect(watch.atLevel(healthy(15, { errorRate: 0.01, latencyMs: { p50: 90, p95: 145 } }), 15, level).recovered).toBe(false);
    expect(watch.atLevel(healthy(15, { errorRate: 0.0002, latencyMs: { p50: 400, p95: 900 } }), 15, level).recovered).toBe(false);
  });

  it('waits for the requests the watch needs', () => {
    expect(watch.atLevel(makeStats(10, 0, 100), 1, level)).toEqual({ recovered: false, summary: '10 requests since the traffic was restored, waiting for 50' });
  });

  it('without history, holds the service to the stable side\'s level during the release; with neither it has no yardstick', () => {
    const before = [
      { at: '', stepIndex: 0, canaryWeight: 10, canary: makeStats(300, 90, 900), baseline: makeStats(3_000, 1, 140) },
      { at: '', stepIndex: 1, canaryWeight: 100, canary: makeStats(3_000, 900, 900), baseline: makeStats(0, 0, 140) },
    ];
    const stable = recoveryLevel(watch, { history: [], before, at: DECIDED })!;
    expect(stable).toMatchObject({ source: 'release', basis: 3_000 });
    expect(stable.errorRate![0]).toBeCloseTo(1 / 3000, 6);
    expect(watch.atLevel(makeStats(3_000, 1, 140), 15, stable)).toMatchObject({ recovered: true, summary: expect.stringMatching(/\(before the release 0\.033%\).*yardstick: the stable side during the release$/) });
    expect(watch.atLevel(makeStats(3_000, 1, 900), 15, stable).recovered).toBe(false);
    expect(recoveryLevel(watch, { history: [], before: [], at: DECIDED })).toBeUndefined();
  });
});
