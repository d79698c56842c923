import { Release, ReleasePlan } from '@release-pilot/plugin-releases-common';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { RouterServer } from './shared';

/** Every top-level release in the store, oldest pages first. */
export async function listAllReleases(store: ReleasesStore): Promise<Release[]> {
  const all: Release[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await store.listReleases({ limit: 100, offset });
    all.push(...page.items);
    if (all.length >= page.totalCount || !page.items.length) return all;
  }
}

/** What the checks found; every count but the takeover times must be 0. */
export interface ReleaseChecks {
  takeoverSeconds: number[];
  /** Seconds from each SIGKILL to the takeover of a release the killed replica held. */
  afterKillSeconds: number[];
  stepsTwice: number;
  eventsLost: number;
  missingData: number;
  /**
   * Router weights above 0 % that no persisted step asked for at that moment: a weight not in the
   * plan, sent before its step was saved as started, or after the release had ended. Each is a
   * router call whose intent was not persisted.
   */
  aboveplan: number;
  wrongSides: number;
  stuck: number;
}

/**
 * The reliability run's checker, for any run against the shared router: each driven release's
 * timeline, steps and samples against the router's log of every weight set and the deployer's log
 * of every side change. `driven` are the releases the replicas drove (a release across regions'
 * own region releases, not the coordinator); `entities` the services released on the plain target,
 * whose sides are checked at the end. Each problem found is described in `problems`.
 */
export async function checkReleases(options: {
  store: ReleasesStore;
  router: RouterServer;
  releases: Release[];
  driven: Release[];
  entities: string[];
  plan: ReleasePlan;
  killedAt?: Map<string, number>;
  problems: string[];
}): Promise<ReleaseChecks> {
  const { store, router, releases, driven, entities, plan, problems } = options;
  const killedAt = options.killedAt ?? new Map<string, number>();
  const log = router.log.filter(l => !l.refused);
  const checks: ReleaseChecks = { takeoverSeconds: [], afterKillSeconds: [], stepsTwice: 0, eventsLost: 0, missingData: 0, aboveplan: 0, wrongSides: 0, stuck: 0 };
  const logOf = new Map<string, typeof log>();
  for (const set of log) logOf.set(set.releaseId, [...(logOf.get(set.releaseId) ?? []), set]);
  for (const release of driven) {
    const events = await store.listEvents(release.id);
    const steps = await store.listSteps(release.id);
    const samples = await store.listSamples(release.id, { limit: 100_000 });
    const of = (type: string) => events.filter(e => e.type === type);
    checks.takeoverSeconds.push(...of('taken_over').map(e => Number((e.data as { seconds: number }).seconds)));
    for (const e of of('taken_over').filter(t => Number((t.data as { seconds: number }).seconds) > 5)) {
      problems.push(`${release.id}${release.region ? ` (${release.region})` : ''}${release.rollout ? ' (across regions)' : ''}: slow takeover at ${e.at}: ${e.message}`);
    }
    for (const e of of('taken_over')) {
      const kill = killedAt.get((e.data as { from: string }).from);
      if (kill !== undefined) checks.afterKillSeconds.push((Date.parse(e.at) - kill) / 1000);
    }
    if (of('started').length > 1) {
      checks.stepsTwice++;
      problems.push(`${release.id}: started ${of('started').length} times`);
    }
    const advanced = of('step_advanced').map(e => (e.data as { step: number }).step);
    if (new Set(advanced).size !== advanced.length) {
      checks.stepsTwice++;
      problems.push(`${release.id}: steps ${advanced.join(',')}`);
    }
    if (release.state !== 'pending' && of('started').length === 0) {
      checks.eventsLost++;
      problems.push(`${release.id}: no started event`);
    }
    for (const step of steps.filter(s => s.index > 0)) {
      if (!advanced.includes(step.index)) {
        checks.eventsLost++;
        problems.push(`${release.id}: step ${step.index} entered without its event`);
      }
    }
    if ((release.state === 'succeeded' || release.state === 'rolled_back') && of(release.state).length !== 1) {
      checks.eventsLost++;
      problems.push(`${release.id}: ${of(release.state).length} ${release.state} events`);
    }
    // Leaving a step (or succeeding) needs the step's minimum of measured canary requests.
    const left = release.state === 'succeeded' ? steps.map(s => s.index) : steps.filter(s => s.endedAt && s.index < release.currentStep).map(s => s.index);
    for (const index of left) {
      const measured = samples.filter(s => s.stepIndex === index).reduce((sum, s) => sum + s.canary.requests, 0);
      if (measured < plan.steps[index].minCanaryRequests) {
        checks.missingData++;
        problems.push(`${release.id}: left step ${index} with ${measured} canary requests`);
      }
    }
    // Every weight the router was given for this release: one of the plan's, never before its step began, never after the release ended.
    for (const set of (logOf.get(release.id) ?? []).filter(l => l.weight > 0)) {
      const index = plan.steps.findIndex(s => s.weight === set.weight);
      const step = steps.find(s => s.index === index);
      const finishedBefore = release.finishedAt && Date.parse(release.finishedAt) < Date.parse(set.at) && (release.state !== 'succeeded' || set.weight !== 100);
      if (index < 0 || !step || Date.parse(step.startedAt) > Date.parse(set.at) || finishedBefore) {
        checks.aboveplan++;
        problems.push(`${release.id}: router set ${set.weight}% at ${set.at} by ${set.by}`);
      }
    }
  }
  // The lifecycle: a success put its version on the stable side before it ended; a rollback left the
  // previous one there; each service ends on its last success, served from the stable side at 100 %.
  for (const release of releases.filter(r => !r.rollout)) {
    const stableDeploy = router.changes.find(c => c.entityRef === release.entityRef && c.side === 'stable' && c.version === release.version);
    if (release.state === 'succeeded' && (!stableDeploy || (release.finishedAt && Date.parse(stableDeploy.at) > Date.parse(release.finishedAt)))) {
      checks.wrongSides++;
      problems.push(`${release.id}: succeeded without ${release.version} on the stable side`);
    }
    if (release.state === 'rolled_back' && stableDeploy) {
      checks.wrongSides++;
      problems.push(`${release.id}: rolled back but its version went to the stable side`);
    }
  }
  for (const entityRef of entities) {
    const last = releases.filter(r => r.entityRef === entityRef && r.state === 'succeeded').sort((x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt))[0];
    const sides = router.sides.get(entityRef);
    if (last && (sides?.stable !== last.version || router.weightOf(entityRef) !== 0 || sides?.canaryUp)) {
      checks.wrongSides++;
      problems.push(`${entityRef}: ends with stable ${sides?.stable}, canary ${sides?.canaryUp ? 'up' : 'down'} at ${router.weightOf(entityRef)}%, not ${last.version} at 100%`);
    }
  }
  for (const call of router.unreadyTraffic) problems.push(`${call.releaseId}: ${call.weight}% to ${call.version} on ${call.entityRef} at ${call.at} by ${call.by} before it was ready`);
  for (const change of router.deploysUnderTraffic) problems.push(`${change.entityRef}: ${change.side} got ${change.version} at ${change.at} by ${change.by} while the canary had ${change.weight}%`);
  const stuckOnes = [...releases, ...driven.filter(r => r.region)].filter(r => !['succeeded', 'rolled_back', 'failed'].includes(r.state));
  for (const r of stuckOnes) problems.push(`${r.id}${r.region ? ` (${r.region})` : ''}: stuck ${r.state} at step ${r.currentStep}, ${r.canaryWeight}%`);
  checks.stuck = stuckOnes.length;
  return checks;
}
