import { describeDetectableEffect } from './detectable';

describe('describeDetectableEffect', () => {
  it('words the smallest detectable regression with its error rate, and warns when 2x is out of reach', () => {
    const base = { probability: 0.9, runs: 40, baselineErrorRate: 0.005 };
    expect(describeDetectableEffect({ ...base, rps: 300, ratio: 1.86 })).toBe(
      "At 300 requests/s (0.5 % errors) this plan catches an error rate 1.9x the stable version's (0.93 %) or worse in 90 % of releases",
    );
    expect(describeDetectableEffect({ ...base, rps: 20, ratio: 4.69 })).toMatch(/4\.7x the stable version's \(2\.3 %\) or worse in 90 % of releases: a 2x regression can slip through; longer steps catch smaller ones$/);
    expect(describeDetectableEffect({ ...base, rps: 1 })).toBe(
      'At 1 requests/s (0.5 % errors) this plan cannot detect even a 20x error regression (10 % errors) in 90 % of releases: give it longer steps, or release when the service is busier',
    );
  });
});
