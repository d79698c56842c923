/**
 * An anytime-valid sequential test of the ratio of two event rates (canary over baseline), for
 * counts that arrive tick by tick while the traffic split changes.
 *
 * Given a tick's events, the canary's share of them is Binomial with q(θ) = θ·nc / (θ·nc + nb), where
 * θ is the canary/baseline rate ratio and nc, nb the requests each side served in that tick. The
 * running likelihood of every θ on a fixed grid is kept; against the null θ ≤ θ0, the likelihood
 * ratio mixed over a fixed prior on the grid points above θ0 is a non-negative supermartingale, so by
 * Ville's inequality it ever reaches 1/α with probability at most α: however often it is looked at,
 * across steps and weight changes (in the spirit of Lindon & Malek 2022, "Anytime-valid inference for
 * multinomial count data").
 *
 * Ticks where the canary serves alone (the 100 % step) have no baseline to condition on. With
 * `canaryAlone`, such a tick is compared with the baseline's rate earlier in the release instead:
 * the canary's events are Poisson with mean θ·U·nc, where U is an upper confidence bound (level
 * `canaryAlone.alpha`) of the baseline's rate from the earlier ticks' totals. On the event that the
 * baseline's rate is below U, which fails with probability at most that alpha, the mixture stays a
 * supermartingale under θ ≤ θ0; the test's level becomes its own alpha plus the bound's. It assumes
 * the stable version's rate does not change during that step: a dependency incident then would be
 * blamed on the canary (docs/judge.md weighs this).
 */

/** One tick's counts. */
export interface RateCounts {
  canaryEvents: number;
  canaryRequests: number;
  baselineEvents: number;
  baselineRequests: number;
}

/** The running state: log-likelihood per grid point and the totals. JSON-serializable. */
export interface RateTestState {
  logLikelihood: number[];
  totals: RateCounts;
}

/** What the test says now. */
export interface RateTestResult {
  /** Evidence against θ ≤ θ0 (an e-value); at 1/α or more the null is rejected. */
  eValue: number;
  rejected: boolean;
  /** The canary/baseline rate ratio over everything seen. */
  estimate: number;
  /** Anytime-valid lower confidence bound of θ at level 1 - α (the grid resolution rounds it down). */
  lowerBound: number;
}

const GRID_STEP = 1.1;
const GRID_MAX = 64;

/** The grid of rate ratios: θ0 itself, then geometric steps of 10 % up to 64, and below θ0 down to 1/64. */
export function rateRatioGrid(theta0: number): number[] {
  const below: number[] = [];
  for (let t = theta0 / GRID_STEP; t >= 1 / GRID_MAX; t /= GRID_STEP) below.unshift(t);
  const above: number[] = [];
  for (let t = theta0; t <= GRID_MAX; t *= GRID_STEP) above.push(t);
  return [...below, ...above];
}

/** A fresh state for a grid. */
export function emptyRateTest(grid: number[]): RateTestState {
  return {
    logLikelihood: new Array(grid.length).fill(0),
    totals: { canaryEvents: 0, canaryRequests: 0, baselineEvents: 0, baselineRequests: 0 },
  };
}

/**
 * Upper confidence bound of a Poisson mean from `events` observed, at level 1 - alpha, by the
 * Chernoff bound: the U above `events` with U - events - events·ln(U / events) = ln(1 / alpha).
 */
export function poissonUpperBound(events: number, alpha: number): number {
  const target = Math.log(1 / alpha);
  if (events === 0) return target;
  const gap = (u: number) => u - events - events * Math.log(u / events) - target;
  let low = events;
  let high = events + target + 2 * Math.sqrt(2 * events * target);
  while (gap(high) < 0) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (gap(mid) < 0) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * A log-likelihood as the state keeps it: to 1e-9, which moves an e-value by a relative 1e-9 per
 * tick at most, and halves the state a release stores every tick (about 14 KB of JSON otherwise).
 */
function stored(logLikelihood: number): number {
  return Math.round(logLikelihood * 1e9) / 1e9;
}

/** Settings of a rate test's update. */
export interface RateTestUpdateOptions {
  /** Compare ticks where the canary serves alone with the baseline's earlier rate, bounded at this level. */
  canaryAlone?: { alpha: number };
}

/**
 * Adds one tick's counts. Ticks where one side served nothing carry no information and change
 * nothing, but for a canary serving alone with `canaryAlone` set and a baseline seen before.
 */
export function updateRateTest(grid: number[], state: RateTestState, tick: RateCounts, options: RateTestUpdateOptions = {}): RateTestState {
  const totals = {
    canaryEvents: state.totals.canaryEvents + tick.canaryEvents,
    canaryRequests: state.totals.canaryRequests + tick.canaryRequests,
    baselineEvents: state.totals.baselineEvents + tick.baselineEvents,
    baselineRequests: state.totals.baselineRequests + tick.baselineRequests,
  };
  const events = tick.canaryEvents + tick.baselineEvents;
  if (options.canaryAlone && tick.baselineRequests === 0 && tick.canaryRequests > 0 && state.totals.baselineRequests > 0) {
    const rate = poissonUpperBound(state.totals.baselineEvents, options.canaryAlone.alpha) / state.totals.baselineRequests;
    const logTheta = logsOf(grid);
    // log Poisson(C; θ·rate·nc) up to terms that are the same for every θ.
    const logLikelihood = grid.map((theta, k) => stored(state.logLikelihood[k] + tick.canaryEvents * logTheta[k] - theta * rate * tick.canaryRequests));
    return { logLikelihood, totals };
  }
  if (events === 0 || tick.canaryRequests === 0 || tick.baselineRequests === 0) {
    return { logLikelihood: state.logLikelihood, totals };
  }
  // log q = log θ + log nc - log(θ nc + nb) and log(1 - q) = log nb - log(θ nc + nb): one log per point.
  const logTheta = logsOf(grid);
  const logNc = Math.log(tick.canaryRequests);
  const logNb = Math.log(tick.baselineRequests);
  const logLikelihood = grid.map((theta, k) => {
    const logDenominator = Math.log(theta * tick.canaryRequests + tick.baselineRequests);
    return stored(
      state.logLikelihood[k] +
        tick.canaryEvents * (logTheta[k] + logNc - logDenominator) +
        tick.baselineEvents * (logNb - logDenominator),
    );
  });
  return { logLikelihood, totals };
}

const gridLogs = new WeakMap<number[], number[]>();

function logsOf(grid: number[]): number[] {
  let logs = gridLogs.get(grid);
  if (!logs) {
    logs = grid.map(Math.log);
    gridLogs.set(grid, logs);
  }
  return logs;
}

/**
 * The mixing prior over the alternatives above a null grid[i]: half of it decays by r per grid point
 * (θ = grid[k] gets ∝ r^(k-i-1): most weight on modest regressions, which need the evidence most),
 * half of it is spread evenly (so a large regression on little traffic is not starved of weight).
 */
const PRIOR_DECAY = 0.85;

/**
 * log e-value against θ ≤ grid[i] for every i at once: the likelihood ratio mixed over the grid points
 * above grid[i] with that prior, from two running sums taken from the top of the grid down.
 */
function logEValues(state: RateTestState): number[] {
  const l = state.logLikelihood;
  const result = new Array<number>(l.length);
  // Sums over k > i, each kept as exp(max) x scaled: D = sum r^(k-i-1) exp(l[k]) and U = sum exp(l[k]).
  let max = -Infinity;
  let decayed = 0;
  let even = 0;
  for (let i = l.length - 1; i >= 0; i--) {
    const count = l.length - 1 - i;
    if (count === 0) {
      result[i] = 0;
    } else {
      const mixed = 0.5 * decayed * normalizer(count) + (0.5 * even) / count;
      result[i] = max + Math.log(mixed) - l[i];
    }
    if (l[i] > max) {
      const shrink = Math.exp(max - l[i]);
      decayed = 1 + PRIOR_DECAY * decayed * shrink;
      even = 1 + even * shrink;
      max = l[i];
    } else {
      const weight = Math.exp(l[i] - max);
      decayed = PRIOR_DECAY * decayed + weight;
      even += weight;
    }
  }
  return result;
}

const normalizers: number[] = [];

/** (1 - r) / (1 - r^count): normalizes the decaying prior over `count` grid points. */
function normalizer(count: number): number {
  normalizers[count] ??= (1 - PRIOR_DECAY) / (1 - PRIOR_DECAY ** count);
  return normalizers[count];
}

/** The test's answer for the null θ ≤ θ0 (grid[nullIndex]) at level α. */
export function evaluateRateTest(
  grid: number[],
  state: RateTestState,
  nullIndex: number,
  alpha: number,
): RateTestResult {
  const threshold = Math.log(1 / alpha);
  const logE = logEValues(state);
  // The confidence sequence: every θ' whose own test is not rejected. Its lower end is the bound.
  const lowerIndex = logE.findIndex(value => value < threshold);
  const { canaryEvents, canaryRequests, baselineEvents, baselineRequests } = state.totals;
  const estimate =
    canaryRequests > 0 && baselineRequests > 0 && baselineEvents > 0
      ? canaryEvents / canaryRequests / (baselineEvents / baselineRequests)
      : NaN;
  return {
    // Capped so that it stays a finite number in JSON.
    eValue: Math.min(Math.exp(logE[nullIndex]), Number.MAX_VALUE),
    rejected: logE[nullIndex] >= threshold,
    estimate,
    lowerBound: lowerIndex <= 0 ? 0 : grid[lowerIndex],
  };
}
