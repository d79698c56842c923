import { demoHistory } from './demoHistory';

describe('demoHistory', () => {
  const entities = [
    { entityRef: 'component:default/checkout', owner: 'group:default/team-checkout', target: 'simulator' },
    { entityRef: 'component:default/search', owner: 'group:default/team-discovery', target: 'simulator' },
  ];
  const now = new Date('2026-11-27T12:00:00.000Z');

  it('is the same for the same seed, different for another, and finished, owned and within the period', () => {
    const a = demoHistory({ entities, days: 30, seed: 7, now });
    const b = demoHistory({ entities, days: 30, seed: 7, now });
    expect(a.map(x => [x.release.entityRef, x.release.version, x.release.state])).toEqual(b.map(x => [x.release.entityRef, x.release.version, x.release.state]));
    expect(demoHistory({ entities, days: 30, seed: 8, now }).map(x => x.release.state)).not.toEqual(a.map(x => x.release.state));
    expect(a.length).toBeGreaterThan(20);
    for (const { release, events } of a) {
      expect(['succeeded', 'rolled_back']).toContain(release.state);
      expect(release.owner).toBe(entities.find(e => e.entityRef === release.entityRef)!.owner);
      expect(Date.parse(release.createdAt)).toBeGreaterThan(now.getTime() - 30 * 86_400_000);
      expect(Date.parse(release.finishedAt!)).toBeLessThan(now.getTime());
      expect(events[events.length - 1].type).toBe(release.state);
      expect(Date.parse(release.metadata.commitTime as string)).toBeLessThan(Date.parse(release.createdAt));
    }
  });

  it('rolls back about one release in eight, within a minute of its first traffic', () => {
    const all = demoHistory({ entities: Array.from({ length: 20 }, (_, i) => ({ entityRef: `component:default/s${i}`, target: 'simulator' })), days: 90, seed: 1, now });
    const bad = all.filter(x => x.release.state === 'rolled_back');
    expect(bad.length / all.length).toBeGreaterThan(0.07);
    expect(bad.length / all.length).toBeLessThan(0.2);
    for (const { events } of bad) {
      const started = Date.parse(events.find(e => e.type === 'started')!.at);
      expect(Date.parse(events.find(e => e.type === 'rolled_back')!.at) - started).toBeLessThan(60_000);
    }
  });

  it("ends every entity's history with a success, on any day of the week (the tab's rollback needs one)", () => {
    // A Sunday evening: no release since Friday, so the week's last failure could be the latest.
    for (const [day, seed] of [['2026-12-06T22:50:00.000Z', 7], ['2026-12-07T06:00:00.000Z', 7], ['2026-11-27T12:00:00.000Z', 3]] as const) {
      const all = demoHistory({ entities: Array.from({ length: 40 }, (_, i) => ({ entityRef: `component:default/s${i}`, target: 'simulator' })), days: 30, seed, now: new Date(day) });
      for (let i = 0; i < 40; i++) {
        const mine = all.filter(x => x.release.entityRef === `component:default/s${i}`);
        const latest = mine.sort((a, b) => Date.parse(b.release.createdAt) - Date.parse(a.release.createdAt))[0];
        expect(latest.release.state).toBe('succeeded');
        expect(latest.events.map(e => e.type)).toEqual(['created', 'started', 'succeeded']);
      }
    }
  });
});
