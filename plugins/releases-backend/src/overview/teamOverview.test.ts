import { Release } from '@release-pilot/plugin-releases-common';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { doraFigures, teamDays, teamOverview } from './teamOverview';

const from = new Date('2026-03-01T00:00:00.000Z');
const to = new Date('2026-03-11T00:00:00.000Z');

function release(id: string, state: Release['state'], day: number, extra: Partial<Release> = {}): Release {
  const at = new Date(Date.UTC(2026, 2, 1 + day, 12)).toISOString();
  return makeRelease({ id, state, createdAt: at, finishedAt: state === 'running' ? undefined : at, ...extra });
}

const seconds = (base: string, s: number) => new Date(Date.parse(base) + s * 1000).toISOString();

describe('team overview', () => {
  const good1 = release('g1', 'succeeded', 0, { metadata: { commitTime: '2026-03-01T10:00:00.000Z' } });
  const good2 = release('g2', 'succeeded', 2, { metadata: { commitTime: '2026-03-03T08:00:00.000Z' } });
  const good3 = release('g3', 'succeeded', 2, { risk: { probability: 0.5 } as Release['risk'] });
  const bad1 = release('b1', 'rolled_back', 4, { risk: { probability: 0.3 } as Release['risk'] });
  const bad2 = release('b2', 'rolled_back', 5);
  const broken = release('f1', 'failed', 6);
  const active = release('a1', 'running', 9);
  const releases = [active, broken, bad2, bad1, good3, good2, good1];
  const moments = new Map([
    ['b1', { started: bad1.createdAt, rollback_started: seconds(bad1.createdAt, 4), rolled_back: seconds(bad1.createdAt, 5) }],
    ['b2', { started: bad2.createdAt, rollback_started: seconds(bad2.createdAt, 20), rolled_back: seconds(bad2.createdAt, 23) }],
  ]);

  it('computes the DORA figures: frequency, failure rate, restore, lead, detection and rollback times', () => {
    const dora = doraFigures(releases, moments, from, to);
    expect(dora).toEqual({
      deploymentsPerDay: 0.3,
      changeFailureRate: 3 / 6,
      medianTimeToRestoreSeconds: 14,
      medianDetectionSeconds: 12,
      medianRollbackSeconds: 2,
      // 2 h and 4 h from commit to success.
      medianLeadTimeSeconds: 3 * 3600,
      finished: 6,
      succeeded: 3,
      rolledBack: 3,
    });
  });

  it('leaves figures it cannot know undefined instead of zero', () => {
    expect(doraFigures([active], new Map(), from, to)).toMatchObject({
      deploymentsPerDay: 0,
      changeFailureRate: undefined,
      medianTimeToRestoreSeconds: undefined,
      medianLeadTimeSeconds: undefined,
    });
  });

  it('counts each UTC day, with the mean predicted risk of the releases that had one', () => {
    const days = teamDays(releases, from, to);
    expect(days).toHaveLength(10);
    expect(days[2]).toEqual({ day: '2026-03-03', succeeded: 2, rolledBack: 0, meanRisk: 0.5 });
    expect(days[4]).toEqual({ day: '2026-03-05', succeeded: 0, rolledBack: 1, meanRisk: 0.3 });
    expect(days[1]).toEqual({ day: '2026-03-02', succeeded: 0, rolledBack: 0, meanRisk: undefined });
  });

  it('splits active releases from the history', () => {
    const overview = teamOverview({ group: 'group:default/t', groups: ['group:default/t'], from, to, releases, moments, historyLimit: 4 });
    expect(overview.active.map(r => r.id)).toEqual(['a1']);
    expect(overview.history.map(r => r.id)).toEqual(['f1', 'b2', 'b1', 'g3']);
  });
});
