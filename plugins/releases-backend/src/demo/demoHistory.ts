import { Release } from '@release-pilot/plugin-releases-common';
import { SeededRandom } from '@release-pilot/plugin-releases-core';
import { randomUUID } from 'node:crypto';
import { NewTimelineEvent } from '../database/ReleasesStore';

/** An entity the demo history makes releases for. */
export interface DemoEntity {
  entityRef: string;
  owner?: string;
  target: string;
}

const AUTHORS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const STEPS = [1, 5, 10, 25, 50, 100];

/**
 * A month (or `days`) of finished releases per entity, for a demo portal's team overviews: about
 * one release a working day, one in eight rolled back by the judge within a minute or two, with
 * commit times for lead time and a predicted risk that is higher for the releases that failed.
 * Seeded, so the same config gives the same history. Never used unless `releases.demo.history` is set.
 */
export function demoHistory(options: { entities: DemoEntity[]; days: number; seed: number; now: Date }): Array<{ release: Release; events: NewTimelineEvent[] }> {
  const out: Array<{ release: Release; events: NewTimelineEvent[] }> = [];
  for (const entity of options.entities) {
    const random = SeededRandom.fromKey(`${options.seed}:${entity.entityRef}`);
    let t = options.now.getTime() - options.days * 86_400_000;
    let minor = 0;
    const end = options.now.getTime() - 3_600_000;
    for (;;) {
      t += (0.5 + 1.5 * random.uniform()) * 86_400_000;
      if (t >= end) break;
      const day = new Date(t).getUTCDay();
      if (day === 0 || day === 6) continue;
      minor++;
      // The last days' releases succeed (and the latest always, below), so every entity's latest release can be rolled back in the demo.
      const failed = random.uniform() < 0.125 && t + 2 * 86_400_000 < end;
      const author = AUTHORS[Math.floor(random.uniform() * AUTHORS.length)];
      const created = new Date(t);
      const started = new Date(t + 1000);
      const at = (seconds: number) => new Date(started.getTime() + seconds * 1000).toISOString();
      const failStep = Math.floor(random.uniform() * 3);
      const detection = 2 + random.uniform() * 40;
      const restore = detection + 0.5 + random.uniform() * 3;
      const finishedAt = failed ? at(restore) : at(36 + 20);
      const probability = Math.min(0.8, Math.max(0.02, (failed ? 0.3 : 0.12) + 0.08 * random.normal()));
      const release: Release = {
        id: randomUUID(),
        entityRef: entity.entityRef,
        version: `1.${minor}.0`,
        target: entity.target,
        state: failed ? 'rolled_back' : 'succeeded',
        plan: { name: 'demo', steps: STEPS.map(weight => ({ weight, minDurationSeconds: 6, minCanaryRequests: 50 })), watchSeconds: 20 },
        currentStep: failed ? failStep : STEPS.length - 1,
        stepStartedAt: started.toISOString(),
        canaryWeight: failed ? 0 : 100,
        stepCanaryRequests: 0,
        consecutiveProviderErrors: 0,
        revision: 1,
        createdBy: `user:default/${author}`,
        owner: entity.owner,
        createdAt: created.toISOString(),
        updatedAt: finishedAt,
        finishedAt,
        reason: failed ? `Error rate ${(1 + 3 * random.uniform()).toFixed(1)}% vs 0.2% baseline (demo history)` : undefined,
        metadata: {
          demo: true,
          author,
          commitTime: new Date(t - (1 + 30 * random.uniform()) * 3_600_000).toISOString(),
        },
        risk: { probability, model: 'prior', threshold: 0.85, blocked: false, reasons: [], features: {} },
      };
      const events: NewTimelineEvent[] = [
        { at: created.toISOString(), actor: release.createdBy, type: 'created', message: `Release of ${release.version} requested (demo history)` },
        { at: started.toISOString(), actor: 'release-pilot', type: 'started', message: `Started release of ${release.version}: canary weight 1%` },
      ];
      if (failed) {
        events.push(
          { at: at(detection), actor: 'judge', type: 'rollback_started', message: `Rolling back: ${release.reason}` },
          { at: finishedAt, actor: 'release-pilot', type: 'rolled_back', message: `Rolled back: canary weight 0%. Reason: ${release.reason}` },
        );
      } else {
        events.push({ at: finishedAt, actor: 'release-pilot', type: 'succeeded', message: `Release of ${release.version} succeeded at canary weight 100%` });
      }
      out.push({ release, events });
    }
    // The entity's latest release succeeded, whatever the day (a weekend leaves the last failure of
    // the week the latest), so its tab can roll it back in the demo.
    const last = out[out.length - 1];
    if (last?.release.entityRef === entity.entityRef && last.release.state === 'rolled_back') out[out.length - 1] = succeededInstead(last);
  }
  return out;
}

/** A demo release that failed, as if it had succeeded: every step, then the stable side. */
function succeededInstead({ release, events }: { release: Release; events: NewTimelineEvent[] }): { release: Release; events: NewTimelineEvent[] } {
  const finishedAt = new Date(Date.parse(release.stepStartedAt!) + 56_000).toISOString();
  return {
    release: { ...release, state: 'succeeded', currentStep: STEPS.length - 1, canaryWeight: 100, reason: undefined, updatedAt: finishedAt, finishedAt },
    events: [
      ...events.filter(e => e.type === 'created' || e.type === 'started'),
      { at: finishedAt, actor: 'release-pilot', type: 'succeeded', message: `Release of ${release.version} succeeded at canary weight 100%` },
    ],
  };
}
