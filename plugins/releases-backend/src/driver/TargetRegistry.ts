import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { RELEASE_PILOT_ANNOTATION_PREFIX } from '@release-pilot/plugin-releases-common';
import {
  DeployerFactory,
  ResilienceFactory,
  MetricProviderFactory,
  RegionParts,
  RegionTargetRegistration,
  ReleaseTarget,
  targetAnnotationRules,
  TrafficRouterFactory,
} from '@release-pilot/plugin-releases-node';
import { DEFAULT_WAVE_OPTIONS, readMinimums } from '@release-pilot/plugin-releases-core';
import { CallGuard } from './CallGuard';
import { readWaves, regionGroupParts, REGION_NAME } from './regionTargets';

function known(names: Iterable<string>): string {
  const list = [...names].sort();
  return list.length ? list.join(', ') : 'none (add a releases-backend-module-* package to the backend)';
}

/**
 * `releases.targets.<name>.allow`: the value patterns an entity may set per annotation the target's
 * providers read, keyed by the annotation's name after `release-pilot.io/` (`haproxy-backend`), with
 * `${entityName}`, `${namespace}`, `${kind}` and `*`. Throws naming the bad key.
 */
function readAllow(block: Config, at: string, target: ReleaseTarget): Pick<ReleaseTarget, 'allow'> {
  const allowConfig = block.getOptionalConfig('allow');
  if (!allowConfig) return {};
  const readable = [...new Set(targetAnnotationRules(target).map(r => r.annotation.replace(RELEASE_PILOT_ANNOTATION_PREFIX, '')))].sort();
  const allow: Record<string, string[]> = {};
  for (const name of allowConfig.keys()) {
    const key = `${at}.allow.${name}`;
    if (!readable.includes(name)) {
      throw new Error(`Invalid config ${key}: the target's providers read no annotation ${RELEASE_PILOT_ANNOTATION_PREFIX}${name}; they read ${readable.join(', ') || 'none'}`);
    }
    const annotation = `${RELEASE_PILOT_ANNOTATION_PREFIX}${name}`;
    const patterns = allowConfig.getOptional(name);
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every(p => typeof p === 'string' && p.length > 0 && p.length <= 512)) {
      throw new Error(`Invalid config ${key}: give a list of value patterns, e.g. ['\${entityName}', '\${entityName}-*']`);
    }
    allow[annotation] = patterns as string[];
  }
  return { allow };
}

/** The target's own provider-error limit (`maxConsecutiveProviderErrors`), when it sets one. */
function policiesOf(block: Config, at: string): Pick<ReleaseTarget, 'maxConsecutiveProviderErrors' | 'experiments'> {
  const key = 'maxConsecutiveProviderErrors';
  // The resilience gate's experiments for releases on this target: names from `releases.experiments` (checked at start-up).
  const experiments = block.getOptionalStringArray('experiments');
  const listed = experiments ? { experiments } : {};
  if (!block.has(key)) return listed;
  const value = block.getNumber(key);
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`Invalid config ${at}.${key}: ${value}; it must be a whole number of at least 1`);
  return { maxConsecutiveProviderErrors: value, ...listed };
}

function minimumsOf(block: Config, at: string): Pick<ReleaseTarget, 'minimums'> {
  const minimums = readMinimums(block, at);
  return minimums ? { minimums } : {};
}

/** How versions get onto a target's sides: its deployer, a pipeline's confirmation (`none`), or nobody. */
export function deployModeOf(target: Pick<ReleaseTarget, 'deployer' | 'confirmDeploys'>): 'deployer' | 'confirm' | 'unmanaged' {
  if (target.deployer) return 'deployer';
  return target.confirmDeploys ? 'confirm' : 'unmanaged';
}

/** The targets releases go through, by name: registered whole by modules, or built from `releases.targets`. */
export class TargetRegistry {
  readonly #targets = new Map<string, ReleaseTarget>();
  readonly #routerTypes = new Map<string, TrafficRouterFactory>();
  readonly #metricTypes = new Map<string, MetricProviderFactory>();
  readonly #deployerTypes = new Map<string, DeployerFactory>();
  readonly #resilienceTypes = new Map<string, ResilienceFactory>();
  #guard?: CallGuard;
  /** Each registered target's guarded view, made once. */
  #guarded = new WeakMap<ReleaseTarget, ReleaseTarget>();

  /** From now on every target's provider calls go through `guard` (timeouts, counts). */
  guardCalls(guard: CallGuard): void {
    this.#guard = guard;
    this.#guarded = new WeakMap();
  }

  /**
   * Registers a target; one spanning regions also registers each region's part as the target
   * `<name>/<region>` (what its regions' releases run on), with the group's policies.
   */
  add(target: ReleaseTarget, config?: { allow: Config; at: string; minimums: Pick<ReleaseTarget, 'minimums'>; policies: Pick<ReleaseTarget, 'maxConsecutiveProviderErrors' | 'experiments'> }): void {
    const names = [target.name, ...Object.keys(target.regions ?? {}).map(region => `${target.name}/${region}`)];
    const taken = names.find(n => this.#targets.has(n));
    if (taken) throw new Error(`Release target '${taken}' is registered twice`);
    const withPolicies = (t: ReleaseTarget): ReleaseTarget =>
      config ? { ...t, ...readAllow(config.allow, config.at, t), ...config.minimums, ...config.policies } : t;
    const group = withPolicies(target);
    this.#targets.set(target.name, group);
    for (const [region, parts] of Object.entries(target.regions ?? {})) {
      const { regions: _regions, waves: _waves, ...shared } = group;
      this.#targets.set(`${target.name}/${region}`, { ...shared, ...parts, name: `${target.name}/${region}` });
    }
  }

  /** A module's target spanning regions: its group target (refusing every call) and each region's part. */
  addRegions(target: RegionTargetRegistration): void {
    const names = Object.keys(target.regions);
    const bad = names.find(r => !REGION_NAME.test(r));
    if (bad !== undefined || names.length === 0) throw new Error(`Target '${target.name}': region names are 1-63 lowercase letters, digits and dashes, at least one (got '${bad ?? ''}')`);
    const waves = { ...DEFAULT_WAVE_OPTIONS, failurePolicy: 'rollbackAll' as const, ...target.waves };
    this.add({ name: target.name, analysis: target.analysis, regions: target.regions, waves, ...regionGroupParts(target.name, Object.values(target.regions)) });
  }

  addRouterType(type: string, factory: TrafficRouterFactory): void {
    if (this.#routerTypes.has(type)) throw new Error(`Traffic router type '${type}' is registered twice`);
    this.#routerTypes.set(type, factory);
  }

  addMetricProviderType(type: string, factory: MetricProviderFactory): void {
    if (this.#metricTypes.has(type)) throw new Error(`Metric provider type '${type}' is registered twice`);
    this.#metricTypes.set(type, factory);
  }

  addDeployerType(type: string, factory: DeployerFactory): void {
    if (type === 'none' || this.#deployerTypes.has(type)) throw new Error(`Deployer type '${type}' is registered twice`);
    this.#deployerTypes.set(type, factory);
  }

  addResilienceType(type: string, factory: ResilienceFactory): void {
    if (this.#resilienceTypes.has(type)) throw new Error(`Resilience gate type '${type}' is registered twice`);
    this.#resilienceTypes.set(type, factory);
  }

  /**
   * Builds the targets of `releases.targets.<name>` that name a `router` and `metrics`, through the
   * registered types; throws at start-up with the bad key and the known types. Entries without a
   * router only set policies of a module-registered target (e.g. `simulator`).
   */
  configure(config: Config, logger: LoggerService, validateAnalysis: (name: string, key: string) => void): void {
    const targets = config.getOptionalConfig('releases.targets');
    for (const name of targets?.keys() ?? []) {
      const at = `releases.targets.${name}`;
      const block = targets!.getConfig(name);
      // `judge` names the target's default judge; `analysis` is its deprecated name.
      const judgeKey = block.has('judge') || !block.has('analysis') ? 'judge' : 'analysis';
      if (judgeKey === 'analysis') logger.warn(`Config ${at}.analysis is deprecated: rename it to ${at}.judge`);
      const analysis = block.getOptionalString(judgeKey);
      if (analysis !== undefined) validateAnalysis(analysis, `${at}.${judgeKey}`);
      if (!block.has('router') && !block.has('metrics') && !block.has('regions')) {
        if (analysis !== undefined || block.has('allow') || block.has('minimums') || block.has('maxConsecutiveProviderErrors') || block.has('experiments')) {
          const existing = this.#targets.get(name);
          if (!existing) {
            throw new Error(`Invalid config ${at}: no module registers a target '${name}'; add 'router' and 'metrics' blocks to configure one`);
          }
          this.#targets.set(name, { ...existing, ...(analysis === undefined ? {} : { analysis }), ...readAllow(block, at, existing), ...minimumsOf(block, at), ...policiesOf(block, at) });
        }
        continue;
      }
      if (this.#targets.has(name)) {
        throw new Error(`Invalid config ${at}: a module already registers the target '${name}'; choose another name`);
      }
      const child = logger.child({ target: name });
      if (block.has('regions')) {
        if (block.has('router') || block.has('metrics') || block.has('deployer') || block.has('resilience')) {
          throw new Error(`Invalid config ${at}: a target with 'regions' sets 'router', 'metrics' and 'deployer' per region, under ${at}.regions.<region>, and has no resilience gate yet`);
        }
        const regionsConfig = block.getConfig('regions');
        const regions: Record<string, RegionParts> = {};
        for (const region of regionsConfig.keys()) {
          if (!REGION_NAME.test(region)) throw new Error(`Invalid config ${at}.regions.${region}: a region name is 1-63 lowercase letters, digits and dashes`);
          regions[region] = this.partsOf(regionsConfig.getConfig(region), `${at}.regions.${region}`, `${name}/${region}`, child);
        }
        if (Object.keys(regions).length === 0) throw new Error(`Invalid config ${at}.regions: name at least one region`);
        const waves = readWaves(block, at, Object.keys(regions));
        this.add({ name, analysis, regions, waves, ...regionGroupParts(name, Object.values(regions)) }, { allow: block, at, minimums: minimumsOf(block, at), policies: policiesOf(block, at) });
        continue;
      }
      const target: ReleaseTarget = { name, analysis, ...this.partsOf(block, at, name, child), ...this.resilienceOf(block, at, name, child) };
      this.#targets.set(name, { ...target, ...readAllow(block, at, target), ...minimumsOf(block, at), ...policiesOf(block, at) });
    }
  }

  /** A block's `router`, `metrics` and `deployer`, built through the registered types. */
  private partsOf(block: Config, at: string, name: string, logger: LoggerService): RegionParts {
    const part = <F>(key: 'router' | 'metrics', types: Map<string, F>): [F, Config] => {
      const partConfig = block.getOptionalConfig(key);
      if (!partConfig) {
        throw new Error(`Invalid config ${at}.${key}: missing; a configured target needs both 'router' and 'metrics'`);
      }
      const type = partConfig.getOptionalString('type');
      const factory = type === undefined ? undefined : types.get(type);
      if (!factory) {
        throw new Error(
          `Invalid config ${at}.${key}.type: '${type ?? ''}' is not an installed ${key === 'router' ? 'traffic router' : 'metric provider'} type; known: ${known(types.keys())}`,
        );
      }
      return [factory, partConfig];
    };
    const [routerFactory, routerConfig] = part('router', this.#routerTypes);
    const [metricsFactory, metricsConfig] = part('metrics', this.#metricTypes);
    return {
      trafficRouter: routerFactory({ targetName: name, config: routerConfig, logger }),
      metricProvider: metricsFactory({ targetName: name, config: metricsConfig, logger }),
      ...this.deployerOf(block, at, name, logger),
    };
  }

  /**
   * The target's `deployer` block: `none` (the pipeline deploys and confirms), a registered type, or
   * absent (unmanaged: Release Pilot only moves traffic). `deployTimeoutSeconds` bounds each operation.
   */
  private deployerOf(block: Config, at: string, targetName: string, logger: LoggerService): Partial<ReleaseTarget> {
    const timeoutKey = 'deployTimeoutSeconds';
    const timeout = block.getOptionalNumber(timeoutKey);
    if (timeout !== undefined && !(timeout > 0 && timeout <= 86_400)) {
      throw new Error(`Invalid config ${at}.${timeoutKey}: must be a number of seconds between 1 and 86400`);
    }
    const deployTimeoutSeconds = timeout === undefined ? {} : { deployTimeoutSeconds: timeout };
    const deployerConfig = block.getOptionalConfig('deployer');
    if (!deployerConfig) return deployTimeoutSeconds;
    const type = deployerConfig.getOptionalString('type');
    if (type === 'none') return { ...deployTimeoutSeconds, confirmDeploys: true };
    const factory = type === undefined ? undefined : this.#deployerTypes.get(type);
    if (!factory) {
      throw new Error(`Invalid config ${at}.deployer.type: '${type ?? ''}' is not an installed deployer type; known: ${known(['none', ...this.#deployerTypes.keys()])}`);
    }
    return { ...deployTimeoutSeconds, deployer: factory({ targetName, config: deployerConfig, logger }) };
  }

  /** The target's `resilience` block, built through the registered resilience gate types. */
  private resilienceOf(block: Config, at: string, targetName: string, logger: LoggerService): Pick<ReleaseTarget, 'resilience'> {
    const config = block.getOptionalConfig('resilience');
    if (!config) return {};
    const type = config.getOptionalString('type');
    const factory = type === undefined ? undefined : this.#resilienceTypes.get(type);
    if (!factory) {
      throw new Error(`Invalid config ${at}.resilience.type: '${type ?? ''}' is not an installed resilience gate type; known: ${known(this.#resilienceTypes.keys())}`);
    }
    return { resilience: factory({ targetName, config, logger }) };
  }

  /** Every target's experiment list must name experiments of `releases.experiments`; throws at start-up naming the key. */
  checkExperiments(configured: readonly string[]): void {
    for (const target of this.#targets.values()) {
      const unknown = (target.experiments ?? []).filter(id => !configured.includes(id));
      if (unknown.length && !target.name.includes('/')) {
        throw new Error(`Invalid config releases.targets.${target.name}.experiments: no experiment named ${unknown.join(', ')} in releases.experiments; known: ${configured.join(', ') || 'none'}`);
      }
    }
  }

  /** The targets an entity may name; a region's part (`<target>/<region>`) is not one of them. */
  names(): string[] {
    return [...this.#targets.keys()].filter(name => !name.includes('/')).sort();
  }

  /** The target, or undefined when no module registered it; its provider calls guarded once `guardCalls` ran. */
  find(name: string): ReleaseTarget | undefined {
    const target = this.#targets.get(name);
    if (!target || !this.#guard) return target;
    let guarded = this.#guarded.get(target);
    if (!guarded) {
      guarded = this.#guard.target(target);
      this.#guarded.set(target, guarded);
    }
    return guarded;
  }

  /** The target, or an InputError that lists the known ones. */
  get(name: string): ReleaseTarget {
    const target = this.find(name);
    if (!target) {
      throw new InputError(
        `Release target '${name}' is not registered; known targets: ${this.names().join(', ') || 'none'}`,
      );
    }
    return target;
  }
}
