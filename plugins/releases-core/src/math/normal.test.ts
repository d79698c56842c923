import { erfc, normalCdf, normalQuantile } from './normal';

describe('normal distribution', () => {
  it('matches known quantiles and probabilities', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 12);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326347874040841, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalCdf(1.6448536269514722)).toBeCloseTo(0.95, 12);
    expect(erfc(0)).toBe(1);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(2)).toBeNaN();
  });

  it('inverts itself across the range', () => {
    for (const p of [1e-10, 1e-4, 0.01, 0.3, 0.7, 0.999, 1 - 1e-9]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 9);
    }
  });
});
