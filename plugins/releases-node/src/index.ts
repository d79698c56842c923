/**
 * Provider interfaces a Release Pilot target implements, and the extension point that registers them.
 *
 * @packageDocumentation
 */
import { createExtensionPoint, LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { z } from 'zod';
import { GateTick, HistoryBucket, MetricSample, ResilienceExperiment } from '@release-pilot/plugin-releases-common';
import { AnnotationRule } from './values';

export * from './values';
export * from './histogram';

/** The simulated fleet's target name: a demo target, registered only where config asks for it. */
export const SIMULATOR_TARGET = 'simulator';

/**
 * A provider that reads entity annotations says how their values must look: the backend refuses
 * a release of an entity whose annotations break a rule (400) and shows the problems on its page.
 */

export interface ReadsAnnotations {
  readonly annotationRules?: readonly AnnotationRule[];
}

/** What a provider is told about the release it serves. */
export interface ReleaseTargetContext {
  entityRef: string;
  releaseId: string;
  version: string;
  /**
   * The entity's `release-pilot.io/*` annotations as they were when the release was requested,
   * for per-entity settings of a provider (an HAProxy backend, Prometheus selectors, ...).
   */
  annotations: Record<string, string>;
  /**
   * The fencing token of this call: it grows with every lease a backend replica acquires on the
   * release and with every person's action on it. A router that can compare-and-set keeps the
   * highest token it has seen per entity and refuses a lower one with {@link StaleFencingTokenError},
   * so a replica that was frozen past its lease cannot move traffic after another one acted.
   * Routers that cannot (HAProxy's runtime API) ignore it; the lease is checked right before the call.
   */
  fencingToken?: number;
}

/** The entity's name in its ref (`checkout` of `component:default/checkout`): what `${entityName}` templates fill in. */
export function entityNameOf(context: Pick<ReleaseTargetContext, 'entityRef'>): string {
  return /\/(.+)$/.exec(context.entityRef)?.[1] ?? context.entityRef;
}

/** A router refused a call whose fencing token is older than one it has already applied. */
export class StaleFencingTokenError extends Error {
  readonly name = 'StaleFencingTokenError';
  constructor(readonly entityRef: string, readonly token: number, readonly current: number) {
    super(`Refused a stale router call for ${entityRef}: fencing token ${token} is older than ${current}, another replica or a person acted since`);
  }
}

/**
 * The fencing check of a router that holds its state in one process: the highest token applied
 * per entity. Call `admit` right before applying a change; calls without a token are admitted.
 */
export class FencingTokens {
  readonly #highest = new Map<string, number>();

  admit(context: ReleaseTargetContext): void {
    const token = context.fencingToken;
    if (token === undefined) return;
    const current = this.#highest.get(context.entityRef) ?? -Infinity;
    if (token < current) throw new StaleFencingTokenError(context.entityRef, token, current);
    this.#highest.set(context.entityRef, token);
  }
}

/** Shifts traffic between baseline and canary of an entity. */
export interface TrafficRouter extends ReadsAnnotations {
  /** Sets the share of traffic (0-100 %) the canary receives. Resolves once the router applied it. */
  setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void>;
  /** The canary weight the router actually holds now. */
  getCanaryWeight(context: ReleaseTargetContext): Promise<number>;
}

/** Measures canary and baseline over an interval. */
export interface MetricProvider extends ReadsAnnotations {
  /** Canary and baseline statistics for requests served in `[from, to)`. */
  getSample(
    context: ReleaseTargetContext,
    interval: { from: Date; to: Date },
  ): Promise<MetricSample>;
  /**
   * A hint at the start of a tick: each of these releases is about to ask for a sample ending at
   * `to`. A provider that batches (Prometheus) asks about all of them at once, and each `getSample`
   * then takes its part of the answer. Optional; a provider must answer `getSample` the same with or
   * without it.
   */
  prepareSamples?(contexts: ReleaseTargetContext[], to: Date): void;
  /**
   * The whole service's traffic in `[from, to)`, cut into buckets of `bucketSeconds` (the post-release
   * watch compares the released service with its own history). Optional: without it the watch
   * has nothing to compare with and only waits out its time.
   */
  getHistory?(
    context: ReleaseTargetContext,
    range: { from: Date; to: Date; bucketSeconds: number },
  ): Promise<HistoryBucket[]>;
}

/** The two sides of a target: `stable` serves the traffic the canary does not get. */
export type DeploySide = 'canary' | 'stable';

/** What each side of a target actually runs, as the deployer reads it back (undefined: it cannot tell). */
export interface SideVersions {
  stable?: string;
  canary?: string;
  /** False once the canary side is scaled down (no instance runs); undefined where the target cannot tell. */
  canaryUp?: boolean;
}

/** Where one deployer operation stands: done, or still under way with a message saying how far. */
export interface DeployStatus {
  done: boolean;
  /** E.g. "2 of 3 replicas updated, 1 available". */
  progress: string;
  /** The read-back after this call. */
  sides: SideVersions;
}

/**
 * Puts versions on a target's sides. Every operation is an idempotent "ensure": the first call
 * starts the change, later calls (from the same replica or, after a crash, from another one) see it
 * under way and report where it stands, until `done`. The driver calls it once per tick and bounds
 * the whole operation by the target's deploy timeout; each call is bounded by the deployer's own.
 * A call that throws counts as a deploy error (retried until the timeout).
 */
export interface Deployer extends ReadsAnnotations {
  /** Ensures `side` runs `version` and is ready (all its instances serve `version`). */
  ensure(context: ReleaseTargetContext, side: DeploySide, version: string): Promise<DeployStatus>;
  /** Ensures the canary side is scaled down, where the target can (done at once where it cannot). */
  scaleDownCanary(context: ReleaseTargetContext): Promise<DeployStatus>;
  /** What each side runs now. */
  readSides(context: ReleaseTargetContext): Promise<SideVersions>;
}

/**
 * How a target's versions get onto its sides: `deployer` (Release Pilot deploys through it),
 * `confirm` (the pipeline deploys and confirms each side through the API, the `none` deployer),
 * `unmanaged` (no deployer configured: the canary is assumed to run the version when the release
 * starts, and success leaves it serving 100 %, as before deployers existed).
 */
export type DeployMode = 'deployer' | 'confirm' | 'unmanaged';

/** A named target: the router and the metric provider that releases of annotated entities go through. */
export interface ReleaseTarget {
  /** The value of the `release-pilot.io/target` annotation that selects this target. */
  name: string;
  trafficRouter: TrafficRouter;
  metricProvider: MetricProvider;
  /** Puts versions on the sides; absent: see {@link DeployMode} (`confirm` when `confirmDeploys`, else `unmanaged`). */
  deployer?: Deployer;
  /** The `none` deployer: the pipeline deploys, and a release waits for its confirmation of each side. */
  confirmDeploys?: boolean;
  /** Seconds a deploy, promotion or scale-down may take before it counts as failed (default 600). */
  deployTimeoutSeconds?: number;
  /** Provider errors in a row this target tolerates before a release rolls back (default: the engine's). */
  maxConsecutiveProviderErrors?: number;
  /** The named analysis that judges releases of entities without a `release-pilot.io/analysis` annotation. */
  analysis?: string;
  /**
   * What an entity's annotations may set, per annotation the target's providers read: value patterns
   * with `${entityName}`, `${namespace}`, `${kind}` and `*` (`releases.targets.<name>.allow`). An
   * annotation without patterns is not the entity's to set: the target's own config decides.
   */
  allow?: Record<string, string[]>;
  /**
   * The least a plan may ask of each step that judges the canary on this target
   * (`releases.targets.<name>.minimums`); a plan below it is refused. Default: 1 s, 0 requests.
   */
  minimums?: PlanMinimums;
  /** The resilience gate's experiments for releases on this target, by name in `releases.experiments` (`releases.targets.<name>.experiments`). */
  experiments?: string[];
  /** The resilience gate's parts: a fault injector and the synthetic load (plans with `gate` need them). */
  resilience?: ResilienceParts;
  /**
   * A target spanning regions (or clusters), each with its own router, metric provider and deployer
   * (`releases.targets.<name>.regions.<region>`). A release of it runs in waves of regions; each
   * region's part is registered as a target of its own, named `<name>/<region>`.
   */
  regions?: Record<string, RegionParts>;
  /** How a release across the regions is cut into waves (`releases.targets.<name>.waves`). */
  waves?: RegionWaveOptions;
}

/** What a module registers for a target spanning regions. */
export interface RegionTargetRegistration {
  name: string;
  regions: Record<string, RegionParts>;
  /** Default: waves 1, 2, 4, the rest, at most 4 at once, no bake, roll back everywhere on a failure. */
  waves?: Partial<RegionWaveOptions>;
  /** The named judge of its releases. */
  analysis?: string;
}

/** One region's router, metric provider and deployer. */
export type RegionParts = Pick<ReleaseTarget, 'trafficRouter' | 'metricProvider' | 'deployer' | 'confirmDeploys' | 'deployTimeoutSeconds'>;

/** Waves of a release across regions: default 1, 2, 4, then the rest, at most `maxParallel` at once. */
export interface RegionWaveOptions {
  maxParallel: number;
  /** Seconds between a wave's success and the next wave's start. */
  bakeSeconds: number;
  /** `rollbackAll` (default): a failing region rolls back every region with the new version; `hold`: ask a person. */
  failurePolicy: 'rollbackAll' | 'hold';
  /** Explicit waves, every region once; default: traffic-aware (the quietest region relative to its daily average first). */
  waves?: string[][];
}

/** The least a target lets a plan ask of a step: its duration and its canary requests. */
export interface PlanMinimums {
  stepSeconds: number;
  canaryRequests: number;
}

/** The rules of every entity annotation a target's router, metric provider and deployer read. */
export function targetAnnotationRules(target: Pick<ReleaseTarget, 'trafficRouter' | 'metricProvider' | 'deployer'>): AnnotationRule[] {
  return [target.trafficRouter, target.metricProvider, target.deployer].flatMap(part => [...(part?.annotationRules ?? [])]);
}

/** What a router or metric provider factory gets to build one configured target's part. */
export interface TargetPartFactoryOptions {
  /** The target's name, the key under `releases.targets`. */
  targetName: string;
  /** The part's own config block, `releases.targets.<name>.router`, `.metrics` or `.deployer`. */
  config: Config;
  logger: LoggerService;
}

/** Builds a traffic router from its config block; throws an Error naming the bad key on invalid config. */
export type TrafficRouterFactory = (options: TargetPartFactoryOptions) => TrafficRouter;

/** Builds a metric provider from its config block; throws an Error naming the bad key on invalid config. */
export type MetricProviderFactory = (options: TargetPartFactoryOptions) => MetricProvider;

/** Builds a deployer from its config block (`releases.targets.<name>.deployer`); throws naming the bad key. */
export type DeployerFactory = (options: TargetPartFactoryOptions) => Deployer;

/** Builds a target's resilience gate parts from its config block (`releases.targets.<name>.resilience`); throws naming the bad key. */
export type ResilienceFactory = (options: TargetPartFactoryOptions) => ResilienceParts;

/** Registers targets, or the router and metric provider types that configured targets are built from. */
export interface ReleasesTargetsExtensionPoint {
  /** A complete target, registered under its own name (e.g. the simulated fleet). */
  addTarget(target: ReleaseTarget): void;
  /** A target spanning regions, each with its own parts (e.g. the simulated fleet in twelve regions). */
  addRegionTarget(target: RegionTargetRegistration): void;
  /** A router type that `releases.targets.<name>.router.type` can name (e.g. `haproxy`). */
  addTrafficRouterType(type: string, factory: TrafficRouterFactory): void;
  /** A metric provider type that `releases.targets.<name>.metrics.type` can name (e.g. `prometheus`). */
  addMetricProviderType(type: string, factory: MetricProviderFactory): void;
  /** A deployer type that `releases.targets.<name>.deployer.type` can name (e.g. `kubernetes`, `command`). */
  addDeployerType(type: string, factory: DeployerFactory): void;
  /** A resilience gate type that `releases.targets.<name>.resilience.type` can name (e.g. `instances`). */
  addResilienceType(type: string, factory: ResilienceFactory): void;
}

/** The extension point through which backend modules add targets. */
export const releasesTargetsExtensionPoint =
  createExtensionPoint<ReleasesTargetsExtensionPoint>({
    id: 'releases.targets',
  });

/**
 * Parses a module's config block with a zod schema, throwing one Error that names every bad key
 * under `at` and says what is wrong, e.g. `Invalid config releases.targets.vm.router.runtimeApi: ...`.
 */
export function parseConfigBlock<S extends z.ZodType>(schema: S, config: Config, at: string): z.output<S> {
  const parsed = schema.safeParse(config.get());
  if (!parsed.success) throw new Error(`Invalid config ${describeConfigIssues(parsed.error, at)}`);
  return parsed.data;
}

/** `key: message` for each issue of a failed parse, the keys under `at`, joined with "; ". */
export function describeConfigIssues(error: z.ZodError, at: string): string {
  return error.issues.map(issue => `${[at, ...issue.path.map(String)].join('.')}: ${issue.message}`).join('; ');
}

/** One fault of a resilience experiment, as the driver asks an injector for it. */
export interface GateFault {
  /** Stable for the experiment (`<release id>/<experiment index>`): injecting it again changes nothing. */
  id: string;
  experiment: ResilienceExperiment;
  /** Seconds after which the injector removes the fault by itself, whatever happens to the backend. */
  ttlSeconds: number;
}

/**
 * Puts faults on a release's canary and stable instance at once. Both calls are idempotent, and the
 * driver calls them every tick with the fault the gate's persisted state asks for: a replica that
 * takes a release over re-applies or clears what a dead one left.
 */
export interface FaultInjector {
  inject(context: ReleaseTargetContext, fault: GateFault): Promise<void>;
  /** Removes every fault of the release from both instances. */
  clear(context: ReleaseTargetContext): Promise<void>;
}

/** The gate's synthetic load on the canary and the stable instance. */
export interface GateLoad {
  /** Both sides' answers since the last read, and over how many seconds (starts the load if it is not running). */
  read(context: ReleaseTargetContext): Promise<{ canary: GateTick; stable: GateTick; seconds: number }>;
  /** Stops the release's load (idempotent). */
  stop(context: ReleaseTargetContext): Promise<void>;
}

/** A target's resilience gate parts. */
export interface ResilienceParts {
  injector: FaultInjector;
  load: GateLoad;
}
