import { mockServices } from '@backstage/backend-test-utils';
import { mergeTrafficStats } from '@release-pilot/plugin-releases-common';
import { makeRelease, makeStats, makeVerdict } from '@release-pilot/plugin-releases-core/testUtils';
import { ReleasesStore } from './ReleasesStore';
import { createTestDatabases } from '../__testUtils__/databases';

const databases = createTestDatabases();

describe.each(databases.eachSupportedId())('SampleRetention on %s', databaseId => {
  it('compacts an ended release\'s samples into buckets per step and weight an hour after it ended, every count kept; an active release keeps every sample', async () => {
    const knex = await databases.init(databaseId);
    const store = await ReleasesStore.create({ database: mockServices.database({ knex, migrations: { skip: false } }) });
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const ended = makeRelease({ id: '00000000-0000-4000-8000-0000000000e1', state: 'rolled_back', finishedAt: '2026-01-01T00:02:00.000Z', judgeState: { version: 4 }, latestVerdict: makeVerdict('fail') });
    const active = makeRelease({ id: '00000000-0000-4000-8000-0000000000e2', entityRef: 'component:default/search', state: 'running' });
    for (const release of [ended, active]) {
      await store.createRelease(release, { at: release.createdAt, actor: 'user:default/alice', type: 'created', message: 'requested' });
      // 90 one-second samples: 60 at step 0 (10 %), then 30 at step 1 (50 %), the last 5 at weight 0 (rolled back).
      for (let i = 1; i <= 90; i++) {
        const step = i <= 60 ? 0 : 1;
        let weight = step === 0 ? 10 : 50;
        if (i > 85) weight = 0;
        await store.appendSample(release.id, {
          at: new Date(start + i * 1000).toISOString(),
          stepIndex: step,
          canaryWeight: weight,
          canary: makeStats(10 + (i % 7), i % 3, 40 + i),
          baseline: makeStats(100 + i, i % 5, 50),
          verdict: makeVerdict('pass'),
        });
      }
    }
    const before = await store.listSamples(ended.id);
    // Not yet due (59 minutes after the end): nothing changes.
    expect((await store.retention.compactDue(new Date('2026-01-01T01:01:00.000Z'), { compactAfterMinutes: 60, sampleBucketSeconds: 30 })).releases).toBe(0);
    const result = await store.retention.compactDue(new Date('2026-01-01T01:03:00.000Z'), { compactAfterMinutes: 60, sampleBucketSeconds: 30 });
    expect(result).toEqual({ releases: 1, rowsBefore: 90, rowsAfter: expect.any(Number) });
    const after = await store.listSamples(ended.id);
    expect(after.length).toBe(result.rowsAfter);
    expect(after.length).toBeLessThanOrEqual(7);
    // Every request, error and latency bucket still counted, per step and weight.
    for (const [step, weight] of [[0, 10], [1, 50], [1, 0]]) {
      const part = (samples: typeof before) => samples.filter(s => s.stepIndex === step && s.canaryWeight === weight);
      expect(part(after).length).toBeGreaterThan(0);
      expect(mergeTrafficStats(part(after).map(s => s.canary))).toEqual(mergeTrafficStats(part(before).map(s => s.canary)));
      expect(mergeTrafficStats(part(after).map(s => s.baseline))).toEqual(mergeTrafficStats(part(before).map(s => s.baseline)));
    }
    // Each compacted sample ends where its last tick ended, so the chart's time axis holds.
    expect(after.at(-1)!.at).toBe(before.at(-1)!.at);
    expect(await store.listSamples(active.id)).toHaveLength(90);
    const compacted = await store.getRelease(ended.id);
    expect(compacted.judgeState).toBeUndefined();
    expect(compacted.latestVerdict?.outcome).toBe('fail');
    // Done once: the next run finds nothing due.
    expect((await store.retention.compactDue(new Date('2026-01-01T02:00:00.000Z'), { compactAfterMinutes: 60, sampleBucketSeconds: 30 })).releases).toBe(0);
    const sizes = await store.retention.tableSizes();
    expect(sizes.release_samples.rows).toBe(90 + after.length);
  });
});
