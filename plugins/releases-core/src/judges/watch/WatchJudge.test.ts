import { emptyTrafficStats, HistoryBucket, mergeTrafficStats, TrafficStats } from '@release-pilot/plugin-releases-common';
import { BehaviourProfile, drawTraffic } from '../../simulation/drawTraffic';
import { SeededRandom } from '../../simulation/random';
import { DEFAULT_WATCH_OPTIONS, WatchJudge, WatchOptions } from './WatchJudge';

const DAY = 86_400;
const START = Date.parse('2026-11-01T00:00:00Z') / 1000;
const WATCH_SECONDS = 1_800;

/** A synthetic service with a daily pattern: traffic 200/s +-50 %, errors and latency a little higher at the peak. */
function serviceAt(second: number): { rps: number; profile: BehaviourProfile } {
  const season = Math.sin((2 * Math.PI * (second - START)) / DAY);
  return {
    rps: 200 * (1 + 0.5 * season),
    profile: { errorRate: 0.002 * (1 + 0.3 * season), latencyMs: { p50: 80 * (1 + 0.15 * season), p95: 160 * (1 + 0.2 * season) } },
  };
}

/** A fault: what changes from some second on. */
type Fault = (service: { rps: number; profile: BehaviourProfile }) => { rps: number; profile: BehaviourProfile };

function draw(random: SeededRandom, second: number, seconds: number, fault?: Fault): TrafficStats {
  const healthy = serviceAt(second);
  const { rps, profile } = fault ? fault(healthy) : healthy;
  const stats = emptyTrafficStats();
  drawTraffic(random, stats, random.poisson(rps * seconds), profile);
  return stats;
}

/** Eight days of the healthy service in 30-second buckets, drawn once. */
const ALL_HISTORY: HistoryBucket[] = (() => {
  const random = new SeededRandom(99);
  const buckets: HistoryBucket[] = [];
  for (let from = START; from < START + 8 * DAY; from += 30) {
    buckets.push({
      from: new Date(from * 1000).toISOString(),
      to: new Date((from + 30) * 1000).toISOString(),
      stats: draw(random, from + 15, 30),
    });
  }
  return buckets;
})();

/** The seven days of history before `end`. */
function history(end: number): HistoryBucket[] {
  const from = new Date((end - 7 * DAY) * 1000).toISOString();
  const to = new Date(end * 1000).toISOString();
  return ALL_HISTORY.filter(b => b.from >= from && b.to <= to);
}

/**
 * Runs a 30-minute watch starting at `start` with a tick a second and a rolling 30-second window;
 * a fault, when given, starts `faultAfter` seconds in. Returns the seconds from the fault's start
 * to the first fail or warn (or to the end), and every outcome seen before the fault.
 */
function runWatch(start: number, seed: number, options: WatchOptions, fault?: Fault, faultAfter = 600) {
  const judge = new WatchJudge(options);
  const random = new SeededRandom(seed + 1);
  const seconds: TrafficStats[] = [];
  let state: unknown;
  const before = new Set<string>();
  const historyBuckets = history(start);
  for (let t = 1; t <= WATCH_SECONDS; t++) {
    const faulty = fault && t > faultAfter;
    seconds.push(draw(random, start + t, 1, faulty ? fault : undefined));
    const window = seconds.slice(-options.bucketSeconds);
    const { verdict, state: next } = judge.judge({
      window: mergeTrafficStats(window),
      windowSeconds: window.length,
      history: judge.needsHistory(state) ? historyBuckets : undefined,
      state,
      watch: { startedAt: new Date(start * 1000), seconds: WATCH_SECONDS },
      now: new Date((start + t) * 1000),
    });
    state = next;
    if (!faulty) before.add(verdict.outcome);
    if (faulty && (verdict.outcome === 'fail' || verdict.outcome === 'warn')) {
      return { detectedAfter: t - faultAfter, outcome: verdict.outcome, verdict, before };
    }
  }
  return { detectedAfter: undefined, outcome: undefined, verdict: undefined, before };
}

// Watches start 7 days into the synthetic history, at different times of day.
const dayStart = START + 7 * DAY;

describe('WatchJudge on a synthetic service with a daily pattern', () => {
  it('raises no alarm over 8 healthy watches spread over a day (ramps and peaks included)', () => {
    for (let i = 0; i < 8; i++) {
      const { detectedAfter, before } = runWatch(dayStart + i * 3 * 3600, 10 + i, DEFAULT_WATCH_OPTIONS);
      expect(detectedAfter).toBeUndefined();
      expect([...before].filter(o => o === 'fail' || o === 'warn')).toEqual([]);
    }
  });

  it.each<[string, Fault]>([
    ['error rate x4', s => ({ ...s, profile: { ...s.profile, errorRate: s.profile.errorRate * 4 } })],
    ['p95 latency +60 %', s => ({ ...s, profile: { ...s.profile, latencyMs: { p50: s.profile.latencyMs.p50 * 1.2, p95: s.profile.latencyMs.p95 * 1.6 } } })],
    ['traffic down 60 % (clients failing before they reach the service)', s => ({ ...s, rps: s.rps * 0.4 })],
  ])('rolls back on %s within a minute', (_name, fault) => {
    const { detectedAfter, outcome, verdict, before } = runWatch(dayStart + 5 * 3600, 3, DEFAULT_WATCH_OPTIONS, fault);
    expect([...before].filter(o => o === 'fail' || o === 'warn')).toEqual([]);
    expect(outcome).toBe('fail');
    // The window needs some seconds to fill with the fault, then the anomaly must last 10 s.
    expect(detectedAfter).toBeGreaterThanOrEqual(DEFAULT_WATCH_OPTIONS.forSeconds);
    expect(detectedAfter).toBeLessThan(60);
    expect(verdict!.summary).toMatch(/usually .* at this time of day \(7-day history/);
  });

  it('ignores changes in the good direction and changes smaller than the minimum effect', () => {
    const more = runWatch(dayStart + 5 * 3600, 4, DEFAULT_WATCH_OPTIONS, s => ({ ...s, rps: s.rps * 1.6 }));
    expect(more.detectedAfter).toBeUndefined();
    const faster = runWatch(dayStart + 5 * 3600, 4, DEFAULT_WATCH_OPTIONS, s => ({
      ...s,
      profile: { ...s.profile, latencyMs: { p50: s.profile.latencyMs.p50 * 0.5, p95: s.profile.latencyMs.p95 * 0.5 } },
    }));
    expect(faster.detectedAfter).toBeUndefined();
    const slightlySlower = runWatch(dayStart + 5 * 3600, 4, DEFAULT_WATCH_OPTIONS, s => ({
      ...s,
      profile: { ...s.profile, latencyMs: { p50: s.profile.latencyMs.p50 * 1.05, p95: s.profile.latencyMs.p95 * 1.05 } },
    }));
    expect(slightlySlower.detectedAfter).toBeUndefined();
  });

  it('watches both directions when asked: more traffic than usual is then an anomaly too', () => {
    const options: WatchOptions = { ...DEFAULT_WATCH_OPTIONS, requestRate: { enabled: true, direction: 'both', minEffect: 0.3 } };
    const { outcome, verdict } = runWatch(dayStart + 5 * 3600, 4, options, s => ({ ...s, rps: s.rps * 1.6 }));
    expect(outcome).toBe('fail');
    expect(verdict!.summary).toMatch(/^Traffic/);
  });

  it('alerts instead of rolling back when onAnomaly is alert', () => {
    const options: WatchOptions = { ...DEFAULT_WATCH_OPTIONS, onAnomaly: 'alert' };
    const { outcome } = runWatch(dayStart + 9 * 3600, 5, options, s => ({ ...s, profile: { ...s.profile, errorRate: 0.02 } }));
    expect(outcome).toBe('warn');
  });

  it('does not count a short blip: the anomaly must last forSeconds', () => {
    const options: WatchOptions = { ...DEFAULT_WATCH_OPTIONS, forSeconds: 120 };
    // A 60-second burst of errors, then healthy again.
    const judge = new WatchJudge(options);
    const random = new SeededRandom(7);
    const start = dayStart + 12 * 3600;
    const buckets = history(start);
    const seconds: TrafficStats[] = [];
    let state: unknown;
    const outcomes: string[] = [];
    const burstRules: string[] = [];
    for (let t = 1; t <= 400; t++) {
      const burst = t > 200 && t <= 260;
      seconds.push(draw(random, start + t, 1, burst ? s => ({ ...s, profile: { ...s.profile, errorRate: 0.05 } }) : undefined));
      const window = seconds.slice(-30);
      const result = judge.judge({
        window: mergeTrafficStats(window),
        windowSeconds: window.length,
        history: judge.needsHistory(state) ? buckets : undefined,
        state,
        watch: { startedAt: new Date(start * 1000), seconds: 400 },
        now: new Date((start + t) * 1000),
      });
      state = result.state;
      outcomes.push(result.verdict.outcome);
      if (burst) burstRules.push(result.verdict.evidence[0].rule);
    }
    expect(outcomes).not.toContain('fail');
    // The burst was seen, and counted towards the 120 s, but too short to act on.
    expect(burstRules.some(rule => /unusual for \d+ s of the 120 s that count/.test(rule))).toBe(true);
  });

  it('is inconclusive without history, and uses the recent level when the history is short', () => {
    const judge = new WatchJudge();
    const now = new Date((dayStart + 60) * 1000);
    const window = draw(new SeededRandom(1), dayStart + 30, 30);
    const none = judge.judge({ window, windowSeconds: 30, state: undefined, watch: { startedAt: new Date(dayStart * 1000), seconds: 600 }, now });
    expect(none.verdict.outcome).toBe('inconclusive');
    expect(none.verdict.summary).toMatch(/no history/);
    const short = history(dayStart).slice(-240); // the last two hours only
    const result = judge.judge({ window, windowSeconds: 30, history: short, watch: { startedAt: new Date(dayStart * 1000), seconds: 600 }, now });
    expect(result.verdict.outcome).toBe('pass');
    expect(result.verdict.summary).toMatch(/recent history; too short for a daily pattern/);
  });

  it('keeps what it learned in a small state that survives JSON (the driver persists it)', () => {
    const judge = new WatchJudge();
    const start = dayStart + 3600;
    const first = judge.judge({
      window: draw(new SeededRandom(2), start + 30, 30),
      windowSeconds: 30,
      history: history(start),
      watch: { startedAt: new Date(start * 1000), seconds: WATCH_SECONDS },
      now: new Date((start + 30) * 1000),
    });
    const json = JSON.stringify(first.state);
    expect(json.length).toBeLessThan(20_000);
    expect(judge.needsHistory(JSON.parse(json))).toBe(false);
    const again = judge.judge({
      window: draw(new SeededRandom(3), start + 60, 30),
      windowSeconds: 30,
      state: JSON.parse(json),
      watch: { startedAt: new Date(start * 1000), seconds: WATCH_SECONDS },
      now: new Date((start + 60) * 1000),
    });
    expect(again.verdict.outcome).toBe('pass');
    expect(again.verdict.evidence.map(e => e.metric)).toEqual(['errorRate', 'p95LatencyMs', 'requestRate']);
  });
});
