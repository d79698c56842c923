import { Release, StoredSample } from '@release-pilot/plugin-releases-common';
import { makeRelease, makeStats } from '../testUtils/fixtures';
import { EngineEvent, handleReleaseEvent } from './engine';

/** A managed release whose canary was rolled back at 12:00:00 and whose traffic is on stable since 12:00:01. */
function restored(overrides: Partial<Release> = {}): Release {
  return makeRelease({
    state: 'rolling_back',
    deployMode: 'deployer',
    canaryWeight: 0,
    reason: 'judge said fail',
    recovery: { status: 'verifying', decidedAt: '2026-01-01T12:00:00.000Z', restoredAt: '2026-01-01T12:00:01.000Z' },
    ...overrides,
  });
}

const at = (seconds: number) => new Date(Date.parse('2026-01-01T12:00:00.000Z') + seconds * 1000);
/** The stable side during the release: 0.1 % errors at about 100 ms. */
const before: StoredSample[] = [{ at: '', stepIndex: 0, canaryWeight: 10, canary: makeStats(500, 100, 2_000), baseline: makeStats(10_000, 10, 100) }];
const check = (window: ReturnType<typeof makeStats> | undefined, extra: Partial<Extract<EngineEvent, { type: 'recoveryCheck' }>> = {}): EngineEvent => ({
  type: 'recoveryCheck',
  window,
  windowSeconds: 15,
  before,
  ...extra,
});

describe('the recovery check after a rollback', () => {
  it('ends the rollback once the service is back at its level, saying how fast from the decision', () => {
    const { release, records } = handleReleaseEvent(restored(), check(makeStats(3_000, 3, 100)), at(3.5));
    expect(release.state).toBe('rolled_back');
    expect(release.recovery).toMatchObject({ status: 'recovered', seconds: 3.5, recoveredAt: at(3.5).toISOString(), level: { source: 'release', basis: 10_000 } });
    expect(records.map(r => r.type)).toEqual(['recovered', 'rolled_back']);
    expect(records[0].message).toMatch(/^Recovered 3\.5 s after the rollback decision: error rate 0\.1% \(before the release 0\.1%\)/);
  });

  it('waits while the service is still off its level, fixing the level on the first check, and gives up after recoverySeconds', () => {
    const failing = makeStats(3_000, 300, 2_000);
    const first = handleReleaseEvent(restored(), check(failing), at(5), { maxConsecutiveProviderErrors: 5, recoverySeconds: 60 });
    expect(first.release.state).toBe('rolling_back');
    expect(first.release.recovery).toMatchObject({ status: 'verifying', level: { source: 'release' } });
    expect(first.records).toEqual([]);
    // Later checks hold the service to the same level, whatever else they bring.
    const later = handleReleaseEvent(first.release, check(failing, { before: [] }), at(30), { maxConsecutiveProviderErrors: 5, recoverySeconds: 60 });
    expect(later).toMatchObject({ release: first.release, records: [] });
    const late = handleReleaseEvent(first.release, check(failing), at(62), { maxConsecutiveProviderErrors: 5, recoverySeconds: 60 });
    expect(late.release).toMatchObject({ state: 'rolled_back', recovery: { status: 'not_recovered' } });
    expect(late.records.map(r => r.type)).toEqual(['not_recovered', 'rolled_back']);
  });

  it('keeps waiting when the metric provider does not answer', () => {
    const { release } = handleReleaseEvent(restored(), check(undefined), at(5));
    expect(release.recovery).toMatchObject({ status: 'verifying' });
    expect(release.recovery!.level).toBeUndefined();
  });

  it('ends unverified at once when there is neither history nor anything measured before the rollback', () => {
    const { release, records } = handleReleaseEvent(restored(), check(makeStats(3_000, 0, 100), { before: [] }), at(2));
    expect(release).toMatchObject({ state: 'rolled_back', recovery: { status: 'unverified' } });
    expect(records[0].message).toBe('Recovery not verified: no history of the service and nothing measured before the rollback to compare with');
  });
});
