const EPSILON = 2.220446049250313e-16;

/**
 * Brent's root finder (Brent 1973, "Algorithms for Minimization Without Derivatives", ch. 4): inverse
 * quadratic interpolation, secant steps and bisection on a bracketing interval [a, b], as R's
 * `uniroot` and Kayenta use it. Stops when the bracket is within `2 eps |b| + tol / 2` of the root.
 * On a step function the answer is where the iteration lands near the jump, so reproducing other
 * tools' numbers needs this exact iteration and tolerance.
 */
export function brentRoot(
  f: (x: number) => number,
  lower: number,
  upper: number,
  options: { tol: number; maxIterations?: number; fLower?: number; fUpper?: number },
): number {
  let a = lower;
  let b = upper;
  let fa = options.fLower ?? f(a);
  let fb = options.fUpper ?? f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  let c = a;
  let fc = fa;
  for (let iteration = 0; iteration <= (options.maxIterations ?? 1000); iteration++) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // Keep b the best approximation so far.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolerance = 2 * EPSILON * Math.abs(b) + options.tol / 2;
    let step = (c - b) / 2;
    if (Math.abs(step) <= tolerance || fb === 0) return b;

    if (Math.abs(previousStep) >= tolerance && Math.abs(fa) > Math.abs(fb)) {
      const cb = c - b;
      let p: number;
      let q: number;
      if (a === c) {
        // Two points only: a secant step.
        const s = fb / fa;
        p = cb * s;
        q = 1 - s;
      } else {
        // Inverse quadratic interpolation through a, b and c.
        const r = fa / fc;
        const s = fb / fc;
        const t = fb / fa;
        p = t * (cb * r * (r - s) - (b - a) * (s - 1));
        q = (r - 1) * (s - 1) * (t - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      // Accept the interpolation only when it lands inside the bracket and shrinks it fast enough.
      if (p < 0.75 * cb * q - Math.abs(tolerance * q) / 2 && p < Math.abs((previousStep * q) / 2)) {
        step = p / q;
      }
    }
    if (Math.abs(step) < tolerance) step = step > 0 ? tolerance : -tolerance;
    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}
