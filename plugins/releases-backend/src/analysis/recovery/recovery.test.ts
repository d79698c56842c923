import { makeStats } from '../../__testUtils__/fixtures';
import { judgeRecovery } from './recovery';

describe('judgeRecovery', () => {
  const before = makeStats(100_000, 20, 120);

  it('is recovered at the pre-release error rate and latency', () => {
    expect(judgeRecovery(makeStats(2_000, 1, 120), before)).toEqual({
      recovered: true,
      summary: 'error rate 0.050% over 2000 requests (before the release 0.020%), p95 124 ms (before 124 ms)',
    });
  });

  it('is not recovered while errors stay clearly above twice the pre-release rate, or latency above its tolerance', () => {
    expect(judgeRecovery(makeStats(2_000, 30, 120), before).recovered).toBe(false);
    expect(judgeRecovery(makeStats(2_000, 0, 900), before).recovered).toBe(false);
  });

  it('waits for enough requests, and says it cannot tell without a measurement before the rollback', () => {
    expect(judgeRecovery(makeStats(5, 0, 120), before)).toEqual({ recovered: false, summary: '5 requests since the traffic was restored, waiting for 20' });
    expect(judgeRecovery(makeStats(2_000, 0, 120), undefined).summary).toBe('no measurement of the stable side before the rollback to compare with');
  });
});

describe('recoveryEvent', () => {
  it('ends the check unverified when nothing was measured before the rollback', () => {
    const { recoveryEvent } = jest.requireActual('../../driver/operations');
    const window = [{ at: '', stepIndex: 0, canaryWeight: 0, canary: makeStats(0, 0, 10), baseline: makeStats(500, 0, 120) }];
    expect(recoveryEvent([], window)).toEqual({ type: 'recoveryCheck', recovered: false, unverifiable: true, summary: 'no measurement of the stable side before the rollback to compare with' });
    expect(recoveryEvent(window.map(s => ({ ...s, canaryWeight: 10 })), window)).toMatchObject({ recovered: true });
  });
});
