import { mockServices } from '@backstage/backend-test-utils';
import { isDeepStrictEqual } from 'node:util';
import { analysisWindowStart, catchUpJudgeState, DEFAULT_ANALYSIS, DEFAULT_ENGINE_OPTIONS, handleReleaseEvent, judgeCatchUpRange, SeededRandom } from '@release-pilot/plugin-releases-core';
import { makeRelease, makeStats } from '@release-pilot/plugin-releases-core/testUtils';
import { Release } from '@release-pilot/plugin-releases-common';
import { ReleasesStore } from './ReleasesStore';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const databases = createTestDatabases();
/** A release as JSON stores it (a verdict's NaN estimate reads back as null). */
const asStored = (release: Release) => JSON.parse(JSON.stringify(release));
const START = Date.parse('2026-03-02T10:00:00.000Z');

async function createStore(databaseId: Parameters<typeof databases.init>[0], judgeStateSeconds: number) {
  const knex = await databases.init(databaseId);
  const database = mockServices.database({ knex, migrations: { skip: false } });
  return ReleasesStore.create({ database, judgeStateSeconds });
}

/**
 * Drives a release through `ticks` one-second ticks of one long step as the driver does: the
 * engine judges each tick's sample over the stored window, the sample is stored, the release saved.
 * Returns the release as this "replica" holds it in memory after the last tick.
 */
async function drive(store: ReleasesStore, ticks: number, seed: number): Promise<Release> {
  const random = new SeededRandom(seed);
  let release = makeRelease({
    state: 'running',
    canaryWeight: 10,
    stepStartedAt: new Date(START).toISOString(),
    plan: { name: 'long', steps: [{ weight: 10, minDurationSeconds: 3600, minCanaryRequests: 0 }, { weight: 100, minDurationSeconds: 60, minCanaryRequests: 0 }] },
  });
  await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
  for (let tick = 1; tick <= ticks; tick++) {
    const now = new Date(START + tick * 1000);
    // A canary a little worse than its baseline, so every tick moves the judge's statistics.
    const sample = { canary: makeStats(100, random.uniform() < 0.05 ? 1 : 0, 90), baseline: makeStats(900, random.uniform() < 0.02 ? 1 : 0, 90) };
    const earlier = await store.listSamples(release.id, { since: analysisWindowStart(release, now, DEFAULT_ANALYSIS) });
    const result = handleReleaseEvent(release, { type: 'tick', sample, earlier }, now, { ...DEFAULT_ENGINE_OPTIONS, analysis: DEFAULT_ANALYSIS });
    await store.appendSample(release.id, { at: now.toISOString(), stepIndex: release.currentStep, canaryWeight: release.canaryWeight, ...sample, verdict: result.release.latestVerdict });
    await store.saveRelease(release, result.release, []);
    release = result.release;
  }
  return release;
}

describe.each(databases.eachSupportedId())('the judge state of ticks that only measured, on %s', databaseId => {
  const batched = databaseId.startsWith('POSTGRES');

  it('a replica that reads an older judge state judges the samples since again and holds exactly the state the last tick left', async () => {
    const store = await createStore(databaseId, 10);
    // 25 ticks: on PostgreSQL the state was written at ticks 1, 11 and 21, so 4 ticks are to count again.
    const held = await drive(store, 25, 7);
    expect(held.state).toBe('running');
    const read = await store.getRelease(held.id);
    expect(read.revision).toBe(held.revision);
    expect(read.latestVerdict).toEqual(asStored(held).latestVerdict);
    const heldState = asStored(held).judgeState;
    // On PostgreSQL the state was written at ticks 1, 11 and 21; SQLite writes every save whole.
    expect(read.judgeStateAt).toBe(batched ? new Date(START + 21_000).toISOString() : undefined);
    // Without counting those four ticks again the state would miss them.
    expect(isDeepStrictEqual(read.judgeState, heldState)).toBe(!batched);
    const range = judgeCatchUpRange(read, DEFAULT_ANALYSIS);
    const stored = range ? await store.listSamples(read.id, range) : [];
    const caught = catchUpJudgeState(read, stored, DEFAULT_ANALYSIS);
    expect(asStored(caught)).toEqual(asStored(held));
    // One sample short (a replay that missed one) is caught by the comparison above.
    const short = catchUpJudgeState(read, stored.filter(s => s.at !== new Date(START + 23_000).toISOString()), DEFAULT_ANALYSIS);
    expect(isDeepStrictEqual(short.judgeState, heldState)).toBe(!batched);
  });

  it('with judgeStateSeconds 0 every tick writes the judge state', async () => {
    const store = await createStore(databaseId, 0);
    const held = await drive(store, 5, 3);
    const read = await store.getRelease(held.id);
    expect(read.judgeStateAt).toBeUndefined();
    expect(asStored(read)).toEqual(asStored(held));
  });
});
