import { ReleaseState } from '@release-pilot/plugin-releases-common';
import { handleRolloutEvent, newRegionRollout, RegionReport, RegionRollout, RolloutActionError, RolloutResult, versionSkew } from './regionRollout';

const plan = { waves: [['a'], ['b', 'c'], ['d']], bakeSeconds: 60, order: [] };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

/** Every started region reporting `state`, except the ones named otherwise. */
function reports(rollout: RegionRollout, state: ReleaseState, overrides: Record<string, ReleaseState> = {}): Record<string, RegionReport> {
  return Object.fromEntries(
    Object.values(rollout.regions)
      .filter(r => r.state !== 'waiting')
      .map(r => [r.region, { state: overrides[r.region] ?? state, weight: 0, verdict: `${r.region} verdict` }]),
  );
}

function tick(rollout: RegionRollout, seconds: number, state: ReleaseState, overrides?: Record<string, ReleaseState>): RolloutResult {
  return handleRolloutEvent(rollout, { type: 'tick', reports: reports(rollout, state, overrides) }, at(seconds));
}

describe('a release across regions', () => {
  it('starts each wave once the previous one succeeded and baked, and succeeds with every region on the new version', () => {
    let r = tick(newRegionRollout(plan, 'rollbackAll'), 0, 'running');
    expect(r.actions).toEqual([{ type: 'startRegion', region: 'a' }]);
    r = tick(r.rollout, 10, 'running');
    expect(r.actions).toEqual([]);
    r = tick(r.rollout, 20, 'succeeded');
    expect(r.rollout.state).toBe('baking');
    expect(r.actions).toEqual([]);
    r = tick(r.rollout, 79, 'succeeded');
    expect(r.actions).toEqual([]);
    r = tick(r.rollout, 80, 'succeeded');
    expect(r.actions).toEqual([{ type: 'startRegion', region: 'b' }, { type: 'startRegion', region: 'c' }]);
    // One region of the wave done is not the wave done.
    r = tick(r.rollout, 90, 'running', { a: 'succeeded', b: 'succeeded' });
    expect(r.rollout.state).toBe('running');
    r = tick(r.rollout, 100, 'succeeded');
    r = tick(r.rollout, 160, 'succeeded');
    expect(r.actions).toEqual([{ type: 'startRegion', region: 'd' }]);
    r = tick(r.rollout, 200, 'succeeded');
    expect(r.rollout.state).toBe('succeeded');
    expect(r.records.map(x => x.message)).toEqual(['Every region runs the new version (4 regions in 3 waves)']);
    expect(versionSkew(r.rollout, '2.0.0', '1.0.0')).toBe(0);
  });

  it('halts when a region fails and rolls back every region that has the new version, promoted or not', () => {
    let r = tick(newRegionRollout(plan, 'rollbackAll'), 0, 'running');
    r = tick(r.rollout, 10, 'succeeded');
    r = tick(r.rollout, 70, 'succeeded');
    expect(r.actions.map(a => a.type)).toEqual(['startRegion', 'startRegion']);
    r = tick(r.rollout, 80, 'running', { a: 'succeeded', c: 'rolled_back' });
    expect(r.rollout.state).toBe('rolling_back');
    expect(r.rollout.failedRegion).toBe('c');
    expect(r.actions).toEqual([
      { type: 'rollbackRegion', region: 'a', reason: 'c rolled back: c verdict' },
      { type: 'rollbackRegion', region: 'b', reason: 'c rolled back: c verdict' },
    ]);
    // No new wave while rolling back, whatever the regions report.
    r = tick(r.rollout, 200, 'rolling_back', { c: 'rolled_back' });
    expect(r.actions).toEqual([]);
    expect(r.rollout.regions.d.state).toBe('waiting');
    r = tick(r.rollout, 210, 'rolled_back');
    expect(r.rollout.state).toBe('rolled_back');
    expect(versionSkew(r.rollout, '2.0.0', '1.0.0')).toBe(0);
  });

  it('holds for a person when told to, who may resume the rest (leaving the failed region behind) or roll back everywhere', () => {
    let r = tick(newRegionRollout(plan, 'hold'), 0, 'running');
    r = tick(r.rollout, 10, 'succeeded');
    r = tick(r.rollout, 70, 'succeeded');
    r = tick(r.rollout, 80, 'succeeded', { c: 'rolled_back' });
    expect(r.rollout.state).toBe('holding');
    expect(r.actions).toEqual([]);
    // Held: nothing starts, however long.
    expect(tick(r.rollout, 5000, 'succeeded', { c: 'rolled_back' }).actions).toEqual([]);
    expect(versionSkew(r.rollout, '2.0.0', '1.0.0')).toBe(1);

    const everywhere = handleRolloutEvent(r.rollout, { type: 'user', action: 'rollback', actor: 'user:default/ada' }, at(90));
    expect(everywhere.actions.map(a => a.type === 'rollbackRegion' && a.region)).toEqual(['a', 'b']);

    let resumed = handleRolloutEvent(r.rollout, { type: 'user', action: 'resume', actor: 'user:default/ada' }, at(90));
    expect(resumed.records[0].message).toBe('user:default/ada resumed the remaining regions; c stays on the previous version');
    resumed = tick(resumed.rollout, 90, 'succeeded', { c: 'rolled_back' });
    resumed = tick(resumed.rollout, 150, 'succeeded', { c: 'rolled_back' });
    expect(resumed.actions).toEqual([{ type: 'startRegion', region: 'd' }]);
    resumed = tick(resumed.rollout, 200, 'succeeded', { c: 'rolled_back' });
    expect(resumed.rollout.state).toBe('succeeded');
    expect(versionSkew(resumed.rollout, '2.0.0', '1.0.0')).toBe(1);
  });

  it('refuses a resume that is not holding', () => {
    const r = tick(newRegionRollout(plan, 'hold'), 0, 'running');
    expect(() => handleRolloutEvent(r.rollout, { type: 'user', action: 'resume', actor: 'x' }, at(1))).toThrow(RolloutActionError);
  });
});
