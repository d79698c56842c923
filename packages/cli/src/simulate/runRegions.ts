import {
  analysisWindowStart,
  DEFAULT_ANALYSIS,
  DEFAULT_PLAN,
  EngineOptions,
  handleReleaseEvent,
  handleRolloutEvent,
  newRegionRollout,
  planWaves,
  RegionReport,
  RegionRollout,
  RolloutAction,
  versionSkew,
  watchNeedsHistory,
  WavePlan,
} from '@release-pilot/plugin-releases-core';
import { SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { HistoryBucket, Release, ReleasePlan, StoredSample } from '@release-pilot/plugin-releases-common';
import { RegionScenario } from './regionScenario';

const VERSION = '2.0.0';
const PREVIOUS = '1.9.0';

/** One region's release, driven through the real engine and judge on a simulated fleet of its own. */
class RegionRun {
  release?: Release;
  readonly samples: StoredSample[] = [];
  history?: HistoryBucket[];
  /** Requests the new version served here, and its errors. */
  served = 0;
  servedErrors = 0;
  everRan = false;

  constructor(
    readonly region: string,
    readonly fleet: SimulatedFleet,
    private readonly version: string,
    private readonly plan: ReleasePlan,
    private readonly engine: EngineOptions,
  ) {}

  private get context() {
    return { entityRef: 'component:default/checkout', releaseId: `sim-${this.region}`, version: this.version, annotations: {} };
  }

  start(now: Date) {
    const iso = now.toISOString();
    this.release = handleReleaseEvent(
      {
        id: `sim-${this.region}`, entityRef: 'component:default/checkout', version: this.version, target: `global/${this.region}`,
        state: 'pending', plan: this.plan, currentStep: 0, canaryWeight: 0, stepCanaryRequests: 0, consecutiveProviderErrors: 0,
        revision: 0, createdBy: 'simulation', createdAt: iso, updatedAt: iso, metadata: {}, previousVersion: PREVIOUS,
      },
      { type: 'start' },
      now,
    ).release;
    this.everRan = true;
  }

  /** A person (here: the coordinator) rolls the region back, also after its success. */
  rollBack(now: Date, reason: string) {
    if (!this.release || !['pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting', 'succeeded'].includes(this.release.state)) return;
    this.apply(handleReleaseEvent(this.release, { type: 'user', action: 'rollback', actor: 'release-pilot', reason }, now, this.engine), now);
  }

  /** The router applies a rollback's weight at once (the simulated router has no latency here). */
  private apply(result: ReturnType<typeof handleReleaseEvent>, now: Date) {
    this.release = result.release;
    for (const action of result.actions) {
      if (action.type === 'setCanaryWeight' && action.report) {
        this.release = handleReleaseEvent(this.release, { type: 'weightApplied', weight: action.weight }, now, this.engine).release;
      }
    }
  }

  async tick(from: Date, now: Date) {
    const release = this.release;
    if (!release) return;
    // The new version's traffic here: the canary's share while judged, all of it once it succeeded.
    const judged = ['running', 'paused', 'watching'].includes(release.state);
    let weight = judged ? release.canaryWeight : 0;
    if (release.state === 'succeeded') weight = 100;
    const sample = this.fleet.simulate(this.context, { from, to: now }, weight);
    this.served += sample.canary.requests;
    this.servedErrors += sample.canary.errors;
    if (!judged) return;
    const analysis = this.engine.analysis!;
    if (watchNeedsHistory(release, analysis)) {
      this.history ??= await this.fleet.getHistory(this.context, {
        from: new Date(Date.parse(release.createdAt) - analysis.watch.options.historyDays * 86_400_000),
        to: new Date(release.createdAt),
        bucketSeconds: analysis.watch.options.bucketSeconds,
      });
    }
    const since = analysisWindowStart(release, now, analysis);
    const earlier = this.samples.filter(s => s.at > since);
    const result = handleReleaseEvent(release, { type: 'tick', sample, earlier, history: watchNeedsHistory(release, analysis) ? this.history : undefined }, now, this.engine);
    this.samples.push({ at: now.toISOString(), stepIndex: release.currentStep, canaryWeight: release.canaryWeight, canary: sample.canary, baseline: sample.baseline });
    if (this.samples.length > 400) this.samples.splice(0, this.samples.length - 400);
    this.apply(result, now);
  }

  report(): RegionReport {
    const r = this.release!;
    return { state: r.state, weight: r.canaryWeight, verdict: r.reason ?? r.latestVerdict?.summary, releaseId: r.id };
  }
}

/** How a simulated region release ended. */
export interface RegionRunResult {
  state: RegionRollout['state'];
  waves: string[][];
  order: WavePlan['order'];
  /** Minutes from the first region's start to the last region's end. */
  minutes: number;
  /** The region whose failure halted the release, and in which wave. */
  failedRegion?: string;
  failedWave?: number;
  /** Regions whose canary or stable side ever ran the new version. */
  regionsThatRanIt: number;
  /** Requests the new version served, over all regions and in the faulty region; and its errors there. */
  servedByNewVersion: number;
  servedInFaultyRegion: number;
  errorsInFaultyRegion: number;
  /** Distinct versions the regions' stable sides run at the end, minus one. */
  finalSkew: number;
  regions: Record<string, { state: string; wave: number; version: string }>;
}

/**
 * Runs one release across the scenario's regions in virtual time: the coordinator's waves over the
 * real engine and judge, one simulated fleet per region with its daily pattern shifted by its time
 * zone. With `oneAtATime`, the same plan region after region (one region per wave, in the same order).
 */
export async function runRegions(scenario: RegionScenario, options: { seed: number; oneAtATime?: boolean; plan?: ReleasePlan }): Promise<RegionRunResult> {
  const start = new Date(scenario.startsAt);
  const plan = options.plan ?? DEFAULT_PLAN;
  const engine: EngineOptions = { maxConsecutiveProviderErrors: 60, analysis: DEFAULT_ANALYSIS };
  const fault = scenario.fault;
  const runs = new Map<string, RegionRun>();
  for (const [region, spec] of Object.entries(scenario.regions)) {
    const fleet = new SimulatedFleet({
      seed: options.seed,
      rps: spec.rps,
      dailyAmplitude: scenario.dailyAmplitude,
      peakHourUtc: (((scenario.peakLocalHour - spec.utcOffsetHours) % 24) + 24) % 24,
      baseline: scenario.baseline,
      faults: fault?.region === region ? [{ versionPattern: /./, ...fault }] : [],
    });
    runs.set(region, new RegionRun(region, fleet, VERSION, plan, engine));
  }
  const now = start.getTime() / 1000;
  const traffic = [...runs.values()].map(r => ({
    region: r.region,
    rps: r.fleet.rpsAt(now),
    usualRps: scenario.regions[r.region].rps,
  }));
  const regions = [...runs.keys()];
  const waved = planWaves(regions, { maxParallel: scenario.waves.maxParallel, bakeSeconds: scenario.waves.bakeSeconds }, traffic);
  const wavePlan = options.oneAtATime
    ? { ...waved, waves: waved.order.map(o => [o.region]) }
    : waved;
  let rollout = newRegionRollout(wavePlan, scenario.waves.failurePolicy);
  const tick = scenario.tickSeconds * 1000;
  let t = start.getTime();
  const perform = (actions: RolloutAction[], at: Date) => {
    for (const action of actions) {
      const run = runs.get(action.region)!;
      if (action.type === 'startRegion') run.start(at);
      else run.rollBack(at, action.reason);
    }
  };
  const limit = t + 7 * 86_400_000;
  let failedWave: number | undefined;
  while (!['succeeded', 'rolled_back', 'holding'].includes(rollout.state) && t < limit) {
    const from = new Date(t);
    t += tick;
    const at = new Date(t);
    for (const run of runs.values()) await run.tick(from, at);
    const reports = Object.fromEntries([...runs.values()].filter(r => r.release).map(r => [r.region, r.report()]));
    const result = handleRolloutEvent(rollout, { type: 'tick', reports }, at);
    if (result.rollout.failedRegion && !rollout.failedRegion) failedWave = result.rollout.wave + 1;
    rollout = result.rollout;
    perform(result.actions, at);
  }
  const faulty = fault ? runs.get(fault.region)! : undefined;
  const versions = Object.values(rollout.regions).map(r => [r.region, { state: r.state, wave: r.wave + 1, version: r.state === 'succeeded' ? VERSION : PREVIOUS }] as const);
  return {
    state: rollout.state,
    waves: wavePlan.waves,
    order: wavePlan.order,
    minutes: (t - start.getTime()) / 60_000,
    failedRegion: rollout.failedRegion,
    failedWave,
    regionsThatRanIt: [...runs.values()].filter(r => r.everRan).length,
    servedByNewVersion: [...runs.values()].reduce((sum, r) => sum + r.served, 0),
    servedInFaultyRegion: faulty?.served ?? 0,
    errorsInFaultyRegion: faulty?.servedErrors ?? 0,
    finalSkew: versionSkew(rollout, VERSION, PREVIOUS),
    regions: Object.fromEntries(versions),
  };
}
