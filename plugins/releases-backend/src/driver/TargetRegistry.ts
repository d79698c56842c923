import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { RELEASE_PILOT_ANNOTATION_PREFIX } from '@release-pilot/plugin-releases-common';
import {
  DeployerFactory,
  MetricProviderFactory,
  ReleaseTarget,
  targetAnnotationRules,
  TrafficRouterFactory,
} from '@release-pilot/plugin-releases-node';
import { readMinimums } from '@release-pilot/plugin-releases-core';

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
function policiesOf(block: Config, at: string): Pick<ReleaseTarget, 'maxConsecutiveProviderErrors'> {
  const key = 'maxConsecutiveProviderErrors';
  if (!block.has(key)) return {};
  const value = block.getNumber(key);
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`Invalid config ${at}.${key}: ${value}; it must be a whole number of at least 1`);
  return { maxConsecutiveProviderErrors: value };
}

function minimumsOf(block: Config, at: string): Pick<ReleaseTarget, 'minimums'> {
  const minimums = readMinimums(block, at);
  return minimums ? { minimums } : {};
}

/** The targets releases go through, by name: registered whole by modules, or built from `releases.targets`. */
export class TargetRegistry {
  readonly #targets = new Map<string, ReleaseTarget>();
  readonly #routerTypes = new Map<string, TrafficRouterFactory>();
  readonly #metricTypes = new Map<string, MetricProviderFactory>();
  readonly #deployerTypes = new Map<string, DeployerFactory>();

  add(target: ReleaseTarget): void {
    if (this.#targets.has(target.name)) {
      throw new Error(`Release target '${target.name}' is registered twice`);
    }
    this.#targets.set(target.name, target);
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
      if (!block.has('router') && !block.has('metrics')) {
        if (analysis !== undefined || block.has('allow') || block.has('minimums') || block.has('maxConsecutiveProviderErrors')) {
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
      const child = logger.child({ target: name });
      const target: ReleaseTarget = {
        name,
        analysis,
        trafficRouter: routerFactory({ targetName: name, config: routerConfig, logger: child }),
        metricProvider: metricsFactory({ targetName: name, config: metricsConfig, logger: child }),
        ...this.deployerOf(block, at, name, child),
      };
      this.#targets.set(name, { ...target, ...readAllow(block, at, target), ...minimumsOf(block, at), ...policiesOf(block, at) });
    }
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

  names(): string[] {
    return [...this.#targets.keys()].sort();
  }

  /** The target, or undefined when no module registered it. */
  find(name: string): ReleaseTarget | undefined {
    return this.#targets.get(name);
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
