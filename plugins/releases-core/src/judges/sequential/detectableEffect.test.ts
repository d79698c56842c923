import { detectableEffect } from './detectableEffect';

const DEFAULT_PLAN = [1, 5, 10, 25, 50, 100].map(weight => ({ weight, seconds: 60 }));

describe('detectableEffect', () => {
  it('finds a smaller detectable regression with more traffic, and each is caught at its ratio', () => {
    const busy = detectableEffect({ rps: 2000, baselineErrorRate: 0.005, steps: DEFAULT_PLAN, tickSeconds: 5 });
    const quiet = detectableEffect({ rps: 100, baselineErrorRate: 0.005, steps: DEFAULT_PLAN, tickSeconds: 5 });
    expect(busy).toMatchObject({ probability: 0.9, runs: 40, rps: 2000 });
    // bench:judge --grid: at 2,000 requests/s 1.5x is caught in 99 % of default-plan releases; at 100, 3x in 100 % and 2x in 37 %.
    expect(busy.ratio).toBeLessThan(1.6);
    expect(quiet.ratio).toBeGreaterThan(2);
    expect(quiet.ratio).toBeLessThan(3.2);
  });

  it('says plainly when a plan cannot protect a service at 1 request/s, and that a longer one can', () => {
    const short = detectableEffect({ rps: 1, baselineErrorRate: 0.005, steps: DEFAULT_PLAN, tickSeconds: 5 });
    expect(short.ratio).toBeUndefined();
    // A half-day plan at 1 request/s and 2 % errors: 43,200 requests, about 860 errors.
    const long = detectableEffect({ rps: 1, baselineErrorRate: 0.02, steps: [10, 50, 100].map(weight => ({ weight, seconds: 14_400 })), tickSeconds: 300, runs: 20 });
    expect(long.ratio).toBeDefined();
    expect(long.ratio).toBeLessThan(3);
  });

  it('answers for a service without traffic or errors without simulating', () => {
    expect(detectableEffect({ rps: 0, baselineErrorRate: 0.005, steps: DEFAULT_PLAN, tickSeconds: 5 }).ratio).toBeUndefined();
  });
});
