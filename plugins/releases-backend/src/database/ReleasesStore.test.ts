import { mockServices } from '@backstage/backend-test-utils';
import { ConflictError, NotFoundError } from '@backstage/errors';
import { makeRelease, makeStats, makeVerdict } from '@release-pilot/plugin-releases-core/testUtils';
import { ReleasesStore } from './ReleasesStore';
import { createTestDatabases } from '../__testUtils__/databases';

jest.setTimeout(60_000);

const databases = createTestDatabases();

async function createStore(databaseId: Parameters<typeof databases.init>[0]) {
  const knex = await databases.init(databaseId);
  const database = mockServices.database({ knex, migrations: { skip: false } });
  return ReleasesStore.create({ database });
}

const created = (at: string) => ({ at, actor: 'user:default/alice', type: 'created' as const, message: 'requested' });

describe.each(databases.eachSupportedId())('ReleasesStore on %s', databaseId => {
  it('creates, reads and lists releases newest first with paging', async () => {
    const store = await createStore(databaseId);
    const a = makeRelease({ id: '00000000-0000-4000-8000-00000000000a', state: 'succeeded', createdAt: '2026-01-01T00:00:00.000Z' });
    const b = makeRelease({ id: '00000000-0000-4000-8000-00000000000b', state: 'rolled_back', createdAt: '2026-01-02T00:00:00.000Z', reason: 'p95' });
    const c = makeRelease({ id: '00000000-0000-4000-8000-00000000000c', entityRef: 'component:default/search', createdAt: '2026-01-03T00:00:00.000Z' });
    for (const r of [a, b, c]) await store.createRelease(r, created(r.createdAt));

    expect(await store.getRelease(b.id)).toEqual(b);
    const page = await store.listReleases({ entityRef: 'component:default/checkout', limit: 1, offset: 0 });
    expect(page.totalCount).toBe(2);
    expect(page.items.map(r => r.id)).toEqual([b.id]);
    const next = await store.listReleases({ entityRef: 'component:default/checkout', limit: 1, offset: 1 });
    expect(next.items.map(r => r.id)).toEqual([a.id]);
    expect((await store.listReleases({ state: 'pending', limit: 10, offset: 0 })).items.map(r => r.id)).toEqual([c.id]);
    await expect(store.getRelease('00000000-0000-4000-8000-0000000000ff')).rejects.toThrow(NotFoundError);
  });

  it('filters by owner, activity and risk, lists a team\'s releases and the first time of each timeline type', async () => {
    const store = await createStore(databaseId);
    const risk = (probability: number) => ({ probability, model: 'prior' as const, threshold: 0.85, blocked: false, reasons: [], features: {} });
    const a = makeRelease({ id: '00000000-0000-4000-8000-0000000000a1', state: 'succeeded', owner: 'group:default/a', risk: risk(0.05), createdAt: '2026-01-01T00:00:00.000Z' });
    const b = makeRelease({ id: '00000000-0000-4000-8000-0000000000b1', entityRef: 'component:default/search', owner: 'group:default/b', risk: risk(0.6), createdAt: '2026-01-02T00:00:00.000Z' });
    const c = makeRelease({ id: '00000000-0000-4000-8000-0000000000c1', entityRef: 'component:default/gateway', owner: 'group:default/c', createdAt: '2026-01-03T00:00:00.000Z' });
    for (const r of [a, b, c]) await store.createRelease(r, created(r.createdAt));
    const ids = async (query: object) => (await store.listReleases({ limit: 10, offset: 0, ...query })).items.map(r => r.id);
    expect(await ids({ owner: ['group:default/a', 'group:default/b'] })).toEqual([b.id, a.id]);
    expect(await ids({ active: true })).toEqual([c.id, b.id]);
    expect(await ids({ active: false })).toEqual([a.id]);
    expect(await ids({ minRisk: 0.5 })).toEqual([b.id]);
    expect((await store.getRelease(a.id)).owner).toBe('group:default/a');
    expect((await store.listOwnedReleases(['group:default/b', 'group:default/c'], '2026-01-02T12:00:00.000Z')).map(r => r.id)).toEqual([c.id]);
    await store.appendEvents(b.id, [
      { at: '2026-01-02T00:00:05.000Z', actor: 'release-pilot', type: 'started', message: 's' },
      { at: '2026-01-02T00:00:09.000Z', actor: 'judge', type: 'rollback_started', message: 'r' },
      { at: '2026-01-02T00:00:08.000Z', actor: 'judge', type: 'rollback_started', message: 'r' },
    ]);
    const times = await store.firstEventTimes([a.id, b.id], ['started', 'rollback_started']);
    expect(times.get(b.id)).toEqual({ started: '2026-01-02T00:00:05.000Z', rollback_started: '2026-01-02T00:00:08.000Z' });
    expect(times.has(a.id)).toBe(false);
  });

  it('allows one active release per entity', async () => {
    const store = await createStore(databaseId);
    const first = makeRelease();
    await store.createRelease(first, created(first.createdAt));
    const second = makeRelease({ id: '00000000-0000-4000-8000-000000000002' });
    await expect(store.createRelease(second, created(second.createdAt))).rejects.toThrow(ConflictError);
    await expect(store.createRelease(second, created(second.createdAt))).rejects.toThrow(/already has an active release/);
    expect((await store.listReleases({ limit: 10, offset: 0 })).totalCount).toBe(1);

    // Once the first is finished, the entity is free again.
    const finished = { ...first, state: 'rolled_back' as const, revision: 1 };
    await store.saveRelease(first, finished, []);
    await store.createRelease(second, created(second.createdAt));
    expect((await store.listReleases({ limit: 10, offset: 0 })).totalCount).toBe(2);
  });

  it('saves transitions with their timeline atomically and refuses stale writes', async () => {
    const store = await createStore(databaseId);
    const release = makeRelease();
    await store.createRelease(release, created(release.createdAt));
    const started = { ...release, state: 'running' as const, canaryWeight: 10, stepStartedAt: '2026-01-01T00:00:01.000Z', revision: 1 };
    await store.saveRelease(release, started, [
      { at: '2026-01-01T00:00:01.000Z', actor: 'release-pilot', type: 'started', message: 'Started', data: { weight: 10 } },
    ]);
    const stale = { ...release, state: 'rolling_back' as const, revision: 1 };
    await expect(store.saveRelease(release, stale, [{ at: 'x', actor: 'y', type: 'paused', message: 'never' }])).rejects.toThrow(ConflictError);

    const events = await store.listEvents(release.id);
    expect(events.map(e => e.type)).toEqual(['created', 'started']);
    expect(events[1].data).toEqual({ weight: 10 });
    expect((await store.getRelease(release.id)).state).toBe('running');
  });

  it('records step boundaries as the release moves', async () => {
    const store = await createStore(databaseId);
    const r0 = makeRelease();
    await store.createRelease(r0, created(r0.createdAt));
    const r1 = { ...r0, state: 'running' as const, canaryWeight: 10, stepStartedAt: '2026-01-01T00:00:01.000Z', revision: 1 };
    await store.saveRelease(r0, r1, []);
    const r2 = { ...r1, currentStep: 1, canaryWeight: 50, stepStartedAt: '2026-01-01T00:00:11.000Z', revision: 2 };
    await store.saveRelease(r1, r2, []);
    const r3 = { ...r2, state: 'succeeded' as const, updatedAt: '2026-01-01T00:00:21.000Z', revision: 3 };
    await store.saveRelease(r2, r3, []);
    expect(await store.listSteps(r0.id)).toEqual([
      { index: 0, weight: 10, startedAt: '2026-01-01T00:00:01.000Z', endedAt: '2026-01-01T00:00:11.000Z' },
      { index: 1, weight: 50, startedAt: '2026-01-01T00:00:11.000Z', endedAt: '2026-01-01T00:00:21.000Z' },
    ]);
  });

  it('stores samples with their verdicts and reads them since a time', async () => {
    const store = await createStore(databaseId);
    const release = makeRelease();
    await store.createRelease(release, created(release.createdAt));
    for (let s = 1; s <= 3; s++) {
      await store.appendSample(release.id, {
        at: `2026-01-01T00:00:0${s}.000Z`,
        stepIndex: 0,
        canaryWeight: 10,
        canary: makeStats(100 * s, s, 140),
        baseline: makeStats(900, 1, 140),
        verdict: makeVerdict('pass'),
      });
    }
    expect(await store.lastSampleAt(release.id)).toBe('2026-01-01T00:00:03.000Z');
    const since = await store.listSamples(release.id, { since: '2026-01-01T00:00:01.000Z' });
    expect(since.map(s => s.canary.requests)).toEqual([200, 300]);
    expect(since[0].verdict?.outcome).toBe('pass');
    expect(await store.lastSampleAt('00000000-0000-4000-8000-0000000000ff')).toBeUndefined();
  });

  it('keeps outbox entries with the release they came from; one claimant at a time takes a due one until it is deleted', async () => {
    const store = await createStore(databaseId);
    const release = makeRelease();
    await store.createRelease(release, created(release.createdAt));
    const entry = { id: 'b7c1f0de-0000-4000-8000-000000000001', releaseId: release.id, owner: 'group:default/team-checkout', message: { title: 'rolled back' }, attemptAfter: '2026-01-01T00:00:30.000Z' };
    await store.saveRelease(release, { ...release, revision: release.revision + 1, state: 'running' }, [], { outbox: [entry] });
    // A save that fails stores none of its messages.
    await expect(store.saveRelease(release, { ...release, revision: release.revision + 1 }, [], { outbox: [{ ...entry, id: 'b7c1f0de-0000-4000-8000-000000000002' }] })).rejects.toThrow(ConflictError);
    expect(await store.outbox.claim(new Date('2026-01-01T00:00:29.000Z'), 60)).toEqual([]);
    const due = new Date('2026-01-01T00:00:31.000Z');
    const [first, second] = await Promise.all([store.outbox.claim(due, 60), store.outbox.claim(due, 60)]);
    expect([...first, ...second]).toEqual([{ ...entry, attemptAfter: '2026-01-01T00:01:31.000Z' }]);
    expect(await store.outbox.claim(new Date('2026-01-01T00:01:00.000Z'), 60)).toEqual([]);
    await store.outbox.delete([entry.id]);
    expect(await store.outbox.claim(new Date('2026-01-01T01:00:00.000Z'), 60)).toEqual([]);
  });

  it('leases active releases to one driver at a time until the lease expires', async () => {
    const store = await createStore(databaseId);
    const release = makeRelease();
    await store.createRelease(release, created(release.createdAt));
    const now = new Date('2026-01-01T00:00:00.000Z');
    const claim = async (owner: string, seconds: number) => store.leases.claim(owner, new Date(now.getTime() + seconds * 1000), 30);
    const first = await claim('a', 0);
    expect(first.releases.map(r => r.id)).toEqual([release.id]);
    const tokenA = first.fencingTokens.get(release.id)!;
    expect(await claim('b', 10)).toEqual({ releases: [], takeovers: [], fencingTokens: new Map(), share: 1, replicas: 2 });
    const renewed = await claim('a', 20);
    expect(renewed.releases.map(r => r.id)).toEqual([release.id]);
    expect(renewed.takeovers).toEqual([]);
    // Renewing keeps the token; the router keeps admitting a's calls.
    expect(renewed.fencingTokens.get(release.id)).toBe(tokenA);
    expect(await store.leases.holds(release.id, 'a', new Date(now.getTime() + 49_000))).toBe(true);
    // a's lease runs out 30 s after its last renewal: b (renewing on its timer) takes the release over, and a is fenced off.
    await store.leases.renew('b', new Date(now.getTime() + 35_000), 30);
    const taken = await claim('b', 60);
    expect(taken.releases.map(r => r.id)).toEqual([release.id]);
    expect(taken.takeovers).toEqual([{ id: release.id, from: 'a', lastRenewedAt: new Date(now.getTime() + 20_000).toISOString() }]);
    expect(await store.leases.holds(release.id, 'a', new Date(now.getTime() + 60_000))).toBe(false);
    // The new holder's token is higher, and so is a person's action after it: a router refuses a's older one.
    const tokenB = taken.fencingTokens.get(release.id)!;
    expect(tokenB).toBeGreaterThan(tokenA);
    const tokenUser = await store.leases.renewFencingToken(release.id);
    expect(tokenUser).toBeGreaterThan(tokenB);
    expect((await claim('b', 61)).fencingTokens.get(release.id)).toBe(tokenUser);
    const current = await store.getRelease(release.id);
    await expect(store.saveRelease(current, { ...current, revision: current.revision + 1, canaryWeight: 50 }, [], { leaseOwner: 'a' })).rejects.toThrow(
      /driven by another replica now/,
    );
    await store.saveRelease(current, { ...current, revision: current.revision + 1, canaryWeight: 5 }, [], { leaseOwner: 'b' });
    expect((await store.getRelease(release.id)).canaryWeight).toBe(5);
    // Once it ends, nobody holds it: a person's rollback after its success makes it active again, and
    // the next replica claims it afresh, not as a takeover from b (which may have stopped long ago).
    const driven = await store.getRelease(release.id);
    const ended = { ...driven, revision: driven.revision + 1, state: 'succeeded' as const };
    await store.saveRelease(driven, ended, [], { leaseOwner: 'b' });
    await store.saveRelease(ended, { ...ended, revision: ended.revision + 1, state: 'rolling_back' }, []);
    const revived = await claim('c', 600);
    expect(revived.releases.map(r => r.id)).toEqual([release.id]);
    expect(revived.takeovers).toEqual([]);
  });

  it('shares the active releases among the replicas alive, splits a dead one\'s among the others, and renews leases without a tick', async () => {
    const store = await createStore(databaseId);
    const ids = Array.from({ length: 12 }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
    for (const [i, id] of ids.entries()) {
      const release = makeRelease({ id, entityRef: `component:default/service-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
      await store.createRelease(release, created(release.createdAt));
    }
    const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 1) + seconds * 1000);
    const held = async (owner: string, seconds: number) => (await store.leases.claim(owner, at(seconds), 10)).releases.map(r => r.id);
    // Alone, a replica takes everything; a second one alive gets nothing until the first lets go of what is above its share.
    expect(await held('a', 0)).toHaveLength(12);
    expect(await held('b', 1)).toEqual([]);
    const second = await store.leases.claim('a', at(2), 10);
    expect([second.share, second.replicas]).toEqual([6, 2]);
    await store.leases.release('a', second.releases.slice(6).map(r => r.id));
    expect(await held('b', 3)).toEqual(ids.slice(6));
    // A third joins: the other two shed down to 4, and it takes 4.
    expect(await held('c', 4)).toEqual([]);
    for (const owner of ['a', 'b']) {
      const mine = await store.leases.claim(owner, at(5), 10);
      expect(mine.share).toBe(4);
      await store.leases.release(owner, mine.releases.slice(4).map(r => r.id));
    }
    expect(await held('c', 6)).toHaveLength(4);
    // c stops renewing (dead); a and b renew on their timers only (no tick) and keep their leases past 10 s.
    const heldByA = (await store.leases.claim('a', at(7), 10)).releases.map(r => r.id);
    expect(heldByA).toHaveLength(4);
    for (const seconds of [8, 11, 14]) {
      await store.leases.renew('a', at(seconds), 10);
      await store.leases.renew('b', at(seconds), 10);
    }
    expect(await store.leases.holds(heldByA[0], 'a', at(23))).toBe(true);
    expect(await store.leases.holds(heldByA[0], 'a', at(25))).toBe(false);
    // c's leases ran out at 16 s: a and b claim at the same moment and split them, each up to its share of 6, none twice.
    const [fromA, fromB] = await Promise.all([store.leases.claim('a', at(17), 10), store.leases.claim('b', at(17), 10)]);
    const takeovers = [...fromA.takeovers, ...fromB.takeovers].map(t => t.id);
    expect(new Set(takeovers).size).toBe(takeovers.length);
    expect(fromA.releases.length + fromB.releases.length).toBe(4 + 4 + takeovers.length);
    expect(fromA.releases.length).toBeLessThanOrEqual(6);
    expect(fromB.releases.length).toBeLessThanOrEqual(6);
    // Whatever one claim left (SQLite runs them one after the other) the next tick takes: all 12 held, 6 each, no overlap.
    const [lastA, lastB] = [await held('a', 18), await held('b', 18)];
    expect(lastA).toHaveLength(6);
    expect(lastB).toHaveLength(6);
    expect(new Set([...lastA, ...lastB]).size).toBe(12);
    // A replica that leaves is counted out at once.
    await store.leases.leave('b');
    expect((await store.leases.claim('a', at(19), 10)).replicas).toBe(1);
  });

  it('after the database was gone, a replica back first takes over nobody for one lease: the others renew and keep their releases', async () => {
    const store = await createStore(databaseId);
    for (let i = 0; i < 4; i++) {
      const release = makeRelease({ id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, entityRef: `component:default/service-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
      await store.createRelease(release, created(release.createdAt));
    }
    const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 1) + seconds * 1000);
    const held = async (owner: string, seconds: number) => await store.leases.claim(owner, at(seconds), 10);
    const first = await held('a', 0);
    await held('b', 1);
    await store.leases.release('a', first.releases.slice(2).map(r => r.id));
    expect((await held('b', 2)).releases).toHaveLength(2);
    // The database is gone from 3 s to 20 s: nobody renews, every heartbeat expires at 12-13 s.
    // a is back first: it keeps its own two and takes none of b's, whose heartbeat has expired too.
    const back = await held('a', 20);
    expect(back.releases).toHaveLength(2);
    expect(back.takeovers).toEqual([]);
    // b renews on its timer and keeps its releases; nothing changed hands.
    await store.leases.renew('b', at(20.5), 10);
    expect((await held('a', 21)).takeovers).toEqual([]);
    expect((await held('b', 21)).releases).toHaveLength(2);
    // Had b died then, a (renewing on its timer) takes its releases over once b's heartbeat expires.
    await store.leases.renew('a', at(28), 10);
    const later = await held('a', 32);
    expect(later.takeovers.map(t => t.from)).toEqual(['b', 'b']);
    expect(later.releases).toHaveLength(4);
  });
});
