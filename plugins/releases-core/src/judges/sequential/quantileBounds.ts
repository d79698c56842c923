/**
 * Anytime-valid confidence bounds of a latency quantile from a histogram of everything seen so far,
 * at the histogram's bucket resolution (in the spirit of Howard & Ramdas 2022, "Sequential estimation
 * of quantiles with applications to A/B-testing and best-arm identification").
 *
 * For a bucket bound b, the requests at or below it are Bernoulli with probability F(b). "The
 * q-quantile is at most b" means F(b) >= q: the share of requests above b is at most 1 - q. Against
 * that, a mixture over larger shares of the likelihood ratio of the counts is a non-negative
 * supermartingale, so by Ville's inequality it ever reaches 1/α with probability at most α. The
 * evidence at a bound falls as the bound rises (fewer requests above it), so rejecting any true
 * "at most b" means rejecting the smallest true one: no correction over the buckets is needed. The
 * same holds the other way for "more than b" (F(b) < q). Between bounds nothing can be said, so the
 * bounds are bucket bounds: finer buckets give tighter bounds.
 */

/** Alternatives: log-odds of the share above the bound, 0.15 apart, up to 60 of them, mixed evenly. */
const LOGIT_STEP = 0.15;
const ALTERNATIVES = 60;

const logit = (p: number) => Math.log(p / (1 - p));
const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/** Per alternative, log(p / p0) and log((1 - p) / (1 - p0)): the same for every bound and tick. */
const alternativesCache = new Map<string, { success: Float64Array; failure: Float64Array }>();

function alternatives(p0: number, upward: boolean) {
  const key = `${p0}:${upward}`;
  let cached = alternativesCache.get(key);
  if (!cached) {
    const success = new Float64Array(ALTERNATIVES);
    const failure = new Float64Array(ALTERNATIVES);
    for (let k = 1; k <= ALTERNATIVES; k++) {
      const p = logistic(logit(p0) + (upward ? k : -k) * LOGIT_STEP);
      success[k - 1] = Math.log(p) - Math.log(p0);
      failure[k - 1] = Math.log(1 - p) - Math.log(1 - p0);
    }
    cached = { success, failure };
    alternativesCache.set(key, cached);
  }
  return cached;
}

/**
 * log of the e-value against "the share of successes is at most p0" (`upward`) or "at least p0"
 * (not upward), from `successes` of `n`: the likelihood ratio mixed evenly over the alternatives.
 */
function logEValue(successes: number, n: number, p0: number, upward: boolean): number {
  const { success, failure } = alternatives(p0, upward);
  const failures = n - successes;
  let max = -Infinity;
  for (let k = 0; k < ALTERNATIVES; k++) max = Math.max(max, successes * success[k] + failures * failure[k]);
  let sum = 0;
  for (let k = 0; k < ALTERNATIVES; k++) sum += Math.exp(successes * success[k] + failures * failure[k] - max);
  return max + Math.log(sum / ALTERNATIVES);
}

/** Requests above each bucket bound, from de-accumulated counts (the last count is above the last bound). */
function above(counts: readonly number[]): { total: number; aboveBound: number[] } {
  const total = counts.reduce((a, b) => a + b, 0);
  const aboveBound: number[] = [];
  let seen = 0;
  for (let i = 0; i < counts.length - 1; i++) {
    seen += counts[i];
    aboveBound.push(total - seen);
  }
  return { total, aboveBound };
}

/** The first index in [0, n) where `holds`, for a predicate that is false up to some index and true after it; n when never. */
function firstWhere(n: number, holds: (i: number) => boolean): number {
  let [low, high] = [-1, n];
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (holds(mid)) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * The q-quantile is above the returned bound with confidence 1 - alpha, however often this is asked
 * as the counts grow; 0 when nothing rules out any bound.
 */
export function quantileLowerBound(counts: readonly number[], boundsMs: readonly number[], q: number, alpha: number): number {
  const { total, aboveBound } = above(counts);
  if (total === 0) return 0;
  const threshold = Math.log(1 / alpha);
  // "At most bounds[i]" is rejected when too many requests are above it; the evidence falls as i
  // rises, so the rejected bounds come first: the bound is the last of them.
  const first = firstWhere(boundsMs.length, i => logEValue(aboveBound[i], total, 1 - q, true) < threshold);
  return first === 0 ? 0 : boundsMs[first - 1];
}

/**
 * The q-quantile is at most the returned bound with confidence 1 - alpha, however often this is
 * asked; Infinity when nothing rules out its being past the last bound.
 */
export function quantileUpperBound(counts: readonly number[], boundsMs: readonly number[], q: number, alpha: number): number {
  const { total, aboveBound } = above(counts);
  if (total === 0) return Infinity;
  const threshold = Math.log(1 / alpha);
  // "More than bounds[i]" is rejected when too few requests are above it; the evidence rises with i,
  // so the rejected bounds come last: the bound is the first of them.
  const first = firstWhere(boundsMs.length, i => logEValue(aboveBound[i], total, 1 - q, false) >= threshold);
  return first < boundsMs.length ? boundsMs[first] : Infinity;
}
