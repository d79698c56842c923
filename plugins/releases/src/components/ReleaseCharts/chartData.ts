import {
  errorRate,
  histogramQuantile,
  mergeTrafficStats,
  ReleaseDetails,
} from '@release-pilot/plugin-releases-common';

/** One point of the canary vs baseline charts. */
export interface ChartPoint {
  /** Seconds since the release was created. */
  t: number;
  canaryErrorRate?: number;
  baselineErrorRate?: number;
  canaryP95?: number;
  baselineP95?: number;
}

/** A vertical marker: a step boundary, a lifecycle moment (canary ready, promotion, recovery) or the rollback. */
export interface ChartMarker {
  t: number;
  label: string;
  kind: 'step' | 'lifecycle' | 'rollback';
}

/** Lifecycle moments marked on the charts, by timeline entry. */
const LIFECYCLE_MARKERS: Array<[string, string]> = [
  ['canary_deployed', 'canary ready'],
  ['promotion_started', 'promote'],
  ['recovered', 'recovered'],
];

const finiteOrUndefined = (value: number) => (Number.isFinite(value) ? value : undefined);

/**
 * Chart points from a release's samples: each point merges the last `smoothing` samples of the same
 * step, since a single second of a 1 % canary holds too few requests to read a rate from.
 */
export function toChartPoints(release: ReleaseDetails, smoothing = 5): ChartPoint[] {
  const origin = new Date(release.createdAt).getTime();
  return release.samples.map((sample, i) => {
    const window = release.samples
      .slice(Math.max(0, i - smoothing + 1), i + 1)
      .filter(s => s.stepIndex === sample.stepIndex);
    const canary = mergeTrafficStats(window.map(s => s.canary));
    const baseline = mergeTrafficStats(window.map(s => s.baseline));
    return {
      t: Math.round((new Date(sample.at).getTime() - origin) / 100) / 10,
      canaryErrorRate: finiteOrUndefined(errorRate(canary) * 100),
      baselineErrorRate: finiteOrUndefined(errorRate(baseline) * 100),
      canaryP95: finiteOrUndefined(histogramQuantile(canary.latency, 0.95)),
      baselineP95: finiteOrUndefined(histogramQuantile(baseline.latency, 0.95)),
    };
  });
}

/**
 * Step boundaries, the start of the post-release watch, the lifecycle's moments and the rollback,
 * in seconds since the release was created.
 */
export function toChartMarkers(release: ReleaseDetails): ChartMarker[] {
  const origin = new Date(release.createdAt).getTime();
  const at = (iso: string) => Math.round((new Date(iso).getTime() - origin) / 100) / 10;
  const markers: ChartMarker[] = release.steps.map(step => ({
    t: at(step.startedAt),
    label: `${step.weight}%`,
    kind: 'step',
  }));
  if (release.watchStartedAt) markers.push({ t: at(release.watchStartedAt), label: 'watch', kind: 'step' });
  for (const [type, label] of LIFECYCLE_MARKERS) {
    const event = release.timeline.find(e => e.type === type);
    if (event) markers.push({ t: at(event.at), label, kind: 'lifecycle' });
  }
  const rollback = release.timeline.find(e => e.type === 'rollback_started');
  if (rollback) markers.push({ t: at(rollback.at), label: 'rollback', kind: 'rollback' });
  return markers;
}
