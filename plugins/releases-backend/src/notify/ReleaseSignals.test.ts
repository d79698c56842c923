import { mockServices } from '@backstage/backend-test-utils';
import { SignalPayload } from '@backstage/plugin-signals-node';
import { makeRelease } from '@release-pilot/plugin-releases-core/testUtils';
import { ReleaseSignals } from './ReleaseSignals';

describe('ReleaseSignals', () => {
  afterEach(() => jest.useRealTimers());

  it('pushes a change of state at once to the entity and the releases channel, and a measuring tick to the entity only, at most once a second (the last one wins)', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') });
    const published: SignalPayload[] = [];
    const signals = new ReleaseSignals({ signals: { publish: async signal => void published.push(signal) }, logger: mockServices.logger.mock() });
    const release = makeRelease({ state: 'running', revision: 3 });
    signals.saved(release, true);
    expect(published.map(p => p.channel)).toEqual(['release-pilot:entity:component:default/checkout', 'release-pilot:releases']);
    expect(published[0]).toMatchObject({ recipients: { type: 'broadcast' }, message: { releaseId: release.id, state: 'running', revision: 3 } });
    // Every signed-in user hears the releases channel: it says that a state changed, not whose.
    expect(Object.keys(published[1].message as object).sort()).toEqual(['savedAt', 'state']);
    // Three measuring ticks within the second: one signal, a second later, with the last revision.
    for (const revision of [4, 5, 6]) {
      jest.advanceTimersByTime(200);
      signals.saved({ ...release, revision }, false);
    }
    expect(published).toHaveLength(2);
    jest.advanceTimersByTime(400);
    expect(published).toHaveLength(3);
    expect(published[2]).toMatchObject({ channel: 'release-pilot:entity:component:default/checkout', message: { revision: 6 } });
    // A change of state does not wait behind a pending tick, and replaces it.
    jest.advanceTimersByTime(100);
    signals.saved({ ...release, revision: 7 }, false);
    signals.saved({ ...release, revision: 8, state: 'rolling_back' }, true);
    jest.advanceTimersByTime(5000);
    expect(published.slice(3).map(p => [p.channel, (p.message as { revision?: number; state: string }).revision ?? p.message.state])).toEqual([
      ['release-pilot:entity:component:default/checkout', 8],
      ['release-pilot:releases', 'rolling_back'],
    ]);
  });

  it('never throws when publishing fails', async () => {
    const logger = mockServices.logger.mock();
    const signals = new ReleaseSignals({ signals: { publish: () => Promise.reject(new Error('events bus down')) }, logger });
    expect(() => signals.saved(makeRelease(), true)).not.toThrow();
    await new Promise(resolve => setImmediate(resolve));
    expect(logger.debug).toHaveBeenCalledWith(expect.stringMatching(/events bus down/));
  });
});
