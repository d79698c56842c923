import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { toChartMarkers, toChartPoints } from './chartData';

describe('chart data', () => {
  it('turns samples into seconds since the start with canary and baseline values', () => {
    const points = toChartPoints(rolledBackRelease());
    expect(points.map(p => p.t)).toEqual([2, 3, 4]);
    expect(points[0].canaryP95).toBeGreaterThan(2500);
    expect(points[0].baselineP95).toBeLessThan(150);
    expect(points[0].canaryErrorRate).toBe(0);
  });

  it('marks step boundaries and the rollback', () => {
    expect(toChartMarkers(rolledBackRelease())).toEqual([
      { t: 1, label: '1%', kind: 'step' },
      { t: 4, label: 'rollback', kind: 'rollback' },
    ]);
  });

  it('marks the lifecycle: the canary ready, the promotion and the recovery after a rollback', () => {
    const base = rolledBackRelease();
    const event = (type: string, at: string) => ({ id: 0, releaseId: base.id, actor: 'release-pilot', message: '', type: type as never, at });
    const timeline = [event('canary_deployed', '2026-01-01T00:00:00.500Z'), ...base.timeline, event('recovered', '2026-01-01T00:00:06.000Z')];
    expect(toChartMarkers({ ...base, timeline })).toEqual([
      { t: 1, label: '1%', kind: 'step' },
      { t: 0.5, label: 'canary ready', kind: 'lifecycle' },
      { t: 6, label: 'recovered', kind: 'lifecycle' },
      { t: 4, label: 'rollback', kind: 'rollback' },
    ]);
    const promoted = { ...base, timeline: [event('promotion_started', '2026-01-01T00:00:09.000Z')] };
    expect(toChartMarkers(promoted)).toContainEqual({ t: 9, label: 'promote', kind: 'lifecycle' });
  });

  it('marks where the post-release watch began', () => {
    const watched = { ...rolledBackRelease(), watchStartedAt: '2026-01-01T00:00:03.500Z' };
    expect(toChartMarkers(watched)).toContainEqual({ t: 3.5, label: 'watch', kind: 'step' });
  });
});
