import { DetectableEffect } from './types';

/**
 * What a plan can detect, for people: "At 100 requests/s (0.5 % errors) this plan catches an error
 * rate 2.4x the stable version's or worse in 90 % of releases", or that it cannot catch even 20x.
 */
export function describeDetectableEffect(d: DetectableEffect): string {
  const rps = d.rps >= 10 ? Math.round(d.rps).toLocaleString('en-US') : Number(d.rps.toPrecision(2)).toString();
  const share = `${Math.round(100 * d.probability)} %`;
  const percent = (rate: number) => `${Number((100 * rate).toPrecision(2))} %`;
  const traffic = `At ${rps} requests/s (${percent(d.baselineErrorRate)} errors)`;
  if (d.ratio === undefined) {
    return `${traffic} this plan cannot detect even a 20x error regression (${percent(d.baselineErrorRate * 20)} errors) in ${share} of releases: give it longer steps, or release when the service is busier`;
  }
  const warning = d.ratio > 2 ? ': a 2x regression can slip through; longer steps catch smaller ones' : '';
  return `${traffic} this plan catches an error rate ${d.ratio.toFixed(1)}x the stable version's (${percent(d.baselineErrorRate * d.ratio)}) or worse in ${share} of releases${warning}`;
}
