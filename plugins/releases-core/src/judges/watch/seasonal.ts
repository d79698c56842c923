/** One value of a metric in one history bucket; `at` is the bucket's end in epoch milliseconds. */
export interface SeriesPoint {
  at: number;
  value: number;
}

/** 1.4826 x the median absolute deviation estimates the standard deviation of normal data. */
const MAD_TO_SIGMA = 1.4826;

/** The median; NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A robust standard deviation: 1.4826 x the median absolute deviation from `center`. */
export function robustSpread(values: readonly number[], center: number): number {
  return MAD_TO_SIGMA * median(values.map(v => Math.abs(v - center)));
}

/** How the seasonal model reads a service's history. */
export interface SeasonalOptions {
  /** The season: 86,400 s for a daily pattern. */
  periodSeconds: number;
  /** The same time of day plus or minus this many seconds counts as the same phase. */
  neighbourhoodSeconds: number;
  /** The last this-many seconds of history set the current level (e.g. this week's growth). */
  levelSeconds: number;
  /** Fewer same-phase points than this: fall back to the recent level alone. */
  minPoints: number;
}

export const DEFAULT_SEASONAL_OPTIONS: SeasonalOptions = {
  periodSeconds: 86_400,
  neighbourhoodSeconds: 900,
  levelSeconds: 3_600,
  minPoints: 10,
};

/** What a metric should be at some moment, and how far it normally strays. */
export interface Expectation {
  center: number;
  /** A robust standard deviation of the metric at that moment. */
  scale: number;
  /** The history points the expectation rests on. */
  points: number;
  /** True when it follows the daily pattern; false when there was too little history and it is the recent level. */
  seasonal: boolean;
}

/**
 * A robust seasonal model of one metric: the value expected at a moment is the median of the same
 * time of day on earlier days, shifted by how far the last hour strayed from its own seasonal median
 * (the level); the spread is the median absolute deviation of those same-phase values. Medians make
 * it indifferent to the odd incident in the history; a history shorter than a period falls back to
 * the recent level.
 */
export class SeasonalModel {
  private readonly points: SeriesPoint[];
  private readonly end: number;
  private readonly level: number;

  constructor(
    history: readonly SeriesPoint[],
    private readonly options: SeasonalOptions = DEFAULT_SEASONAL_OPTIONS,
  ) {
    this.points = history.filter(p => Number.isFinite(p.value)).sort((a, b) => a.at - b.at);
    this.end = this.points.length > 0 ? this.points[this.points.length - 1].at : 0;
    const residuals = this.recent()
      .map(p => {
        const phase = this.samePhase(p.at);
        return phase.length >= this.options.minPoints ? p.value - median(phase) : NaN;
      })
      .filter(Number.isFinite);
    this.level = residuals.length > 0 ? median(residuals) : 0;
  }

  /** The expectation at `at` (epoch ms), from history before it. */
  expect(at: number): Expectation {
    const phase = this.samePhase(at);
    if (phase.length >= this.options.minPoints) {
      const center = median(phase);
      return { center: center + this.level, scale: robustSpread(phase, center), points: phase.length, seasonal: true };
    }
    const recent = this.recent().map(p => p.value);
    const center = median(recent);
    return { center, scale: robustSpread(recent, center), points: recent.length, seasonal: false };
  }

  private recent(): SeriesPoint[] {
    return this.between(this.end - this.options.levelSeconds * 1000, this.end);
  }

  /** Values at the same phase of every earlier period than `at`. */
  private samePhase(at: number): number[] {
    const period = this.options.periodSeconds * 1000;
    const half = this.options.neighbourhoodSeconds * 1000;
    const values: number[] = [];
    const first = this.points.length > 0 ? this.points[0].at : at;
    for (let centre = at - period; centre + half >= first; centre -= period) {
      for (const p of this.between(centre - half, centre + half)) values.push(p.value);
    }
    return values;
  }

  /** Points with `from < at <= to` (binary search on the sorted history). */
  private between(from: number, to: number): SeriesPoint[] {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid].at <= from) lo = mid + 1;
      else hi = mid;
    }
    const out: SeriesPoint[] = [];
    for (let i = lo; i < this.points.length && this.points[i].at <= to; i++) out.push(this.points[i]);
    return out;
  }
}
