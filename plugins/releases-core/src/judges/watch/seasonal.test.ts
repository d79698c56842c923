import { SeededRandom } from '../../simulation/random';
import { median, robustSpread, SeasonalModel, SeriesPoint } from './seasonal';

const DAY = 86_400_000;
const MINUTE = 60_000;
const START = Date.parse('2026-11-01T00:00:00Z');

/** A daily sine around 100 (amplitude 40) with normal noise of sd 2, one point a minute. */
function dailySeries(days: number, seed = 1, level = (_at: number) => 0): SeriesPoint[] {
  const random = new SeededRandom(seed);
  const points: SeriesPoint[] = [];
  for (let at = START + MINUTE; at <= START + days * DAY; at += MINUTE) {
    const value = 100 + 40 * Math.sin((2 * Math.PI * (at - START)) / DAY) + level(at) + 2 * random.normal();
    points.push({ at, value });
  }
  return points;
}

const truth = (at: number) => 100 + 40 * Math.sin((2 * Math.PI * (at - START)) / DAY);

describe('median and robustSpread', () => {
  it('are the median and 1.4826 x the median absolute deviation', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(robustSpread([1, 2, 3, 4, 100], 3)).toBeCloseTo(1.4826 * 1, 6);
  });
});

describe('SeasonalModel', () => {
  it('expects the daily pattern at any time of the next day, within the noise', () => {
    const model = new SeasonalModel(dailySeries(7));
    for (const hour of [0, 3, 6, 9, 12, 18, 23]) {
      const at = START + 7 * DAY + hour * 3_600_000;
      const e = model.expect(at);
      expect(e.seasonal).toBe(true);
      // 7 days x 31 minutes of same-phase points; the median is within a point or two of the truth.
      expect(e.points).toBeGreaterThan(180);
      expect(Math.abs(e.center - truth(at))).toBeLessThan(1.5);
      // The spread holds the noise (sd 2) and the pattern's slope over +-15 minutes, nothing more.
      expect(e.scale).toBeGreaterThan(1.5);
      expect(e.scale).toBeLessThan(12);
    }
  });

  it('is not moved by an incident in the history', () => {
    const history = dailySeries(7).map(p =>
      // Two hours of a big incident at the same time of day two days ago.
      p.at > START + 5 * DAY + 10 * 3_600_000 && p.at < START + 5 * DAY + 12 * 3_600_000 ? { ...p, value: 1000 } : p,
    );
    const at = START + 7 * DAY + 11 * 3_600_000;
    const e = new SeasonalModel(history).expect(at);
    expect(Math.abs(e.center - truth(at))).toBeLessThan(2);
    expect(e.scale).toBeLessThan(15);
  });

  it('follows this week\'s level: a service that grew 20 over the last day is expected 20 higher', () => {
    const grown = dailySeries(7, 2, at => (at > START + 6 * DAY ? 20 : 0));
    const at = START + 7 * DAY + 2 * 3_600_000;
    const e = new SeasonalModel(grown).expect(at);
    expect(Math.abs(e.center - (truth(at) + 20))).toBeLessThan(2.5);
  });

  it('falls back to the recent level when the history is shorter than a day', () => {
    const short = dailySeries(0.5);
    const e = new SeasonalModel(short).expect(START + DAY / 2 + MINUTE);
    expect(e.seasonal).toBe(false);
    expect(e.points).toBe(60);
    const lastHour = short.slice(-60).map(p => p.value);
    expect(e.center).toBeCloseTo(median(lastHour), 9);
  });

  it('ignores values that are not numbers (a bucket without requests)', () => {
    const history = dailySeries(2).map((p, i) => (i % 2 ? { ...p, value: NaN } : p));
    const e = new SeasonalModel(history).expect(START + 2 * DAY);
    expect(Number.isFinite(e.center)).toBe(true);
    expect(Number.isFinite(e.scale)).toBe(true);
  });
});
