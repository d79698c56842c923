import {
  Deployer,
  DeploySide,
  DeployStatus,
  ReleaseTargetContext,
  SideVersions,
} from '@release-pilot/plugin-releases-node';

/** A simulated deploy that goes wrong for versions matching `versionPattern`. */
export interface DeployFailure {
  versionPattern: RegExp;
  /** `fails`: every deploy call errs (an image that cannot be pulled); `neverReady`: it runs but never passes its readiness check. */
  kind: 'fails' | 'neverReady';
}

/** Settings of the simulated deployer. */
export interface SimulatedDeployerOptions {
  /** Seconds a side takes to roll out a version. Default 2. */
  deploySeconds: number;
  /** Seconds after the roll-out until the side is ready. Default 1. */
  readySeconds: number;
  failures: DeployFailure[];
  /** The clock (virtual in tests). Default: the system clock. */
  now?: () => number;
}

export const DEFAULT_SIMULATED_DEPLOYER: SimulatedDeployerOptions = { deploySeconds: 2, readySeconds: 1, failures: [] };

interface SideState {
  version?: string;
  since: number;
}

/**
 * Two sides per entity, in memory: a deploy replaces the side's version and makes it ready after
 * `deploySeconds + readySeconds`. The fleet asks it which version each side runs, so a canary
 * behaves like the version it really runs, and so does the stable side.
 */
export class SimulatedDeployer implements Deployer {
  readonly #sides = new Map<string, { stable: SideState; canary: SideState & { up: boolean } }>();

  constructor(private readonly options: SimulatedDeployerOptions = DEFAULT_SIMULATED_DEPLOYER) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private of(entityRef: string) {
    let sides = this.#sides.get(entityRef);
    if (!sides) {
      // Before any release the deployer cannot name the version the entity runs.
      sides = { stable: { since: -Infinity }, canary: { since: -Infinity, up: false } };
      this.#sides.set(entityRef, sides);
    }
    return sides;
  }

  /**
   * The versions the sides of an entity run and whether they are ready (the fleet's view), or
   * undefined for an entity this process never deployed: a restarted backend's simulation forgets
   * its sides, and the fleet then lets the canary behave like the release's version, as before.
   */
  serving(entityRef: string): { stable?: string; canary?: string; canaryReady: boolean } | undefined {
    const sides = this.#sides.get(entityRef);
    if (!sides) return undefined;
    return { stable: sides.stable.version, canary: sides.canary.up ? sides.canary.version : undefined, canaryReady: this.isReady(sides.canary) };
  }

  private isReady(side: SideState): boolean {
    if (side.version === undefined) return true;
    if (this.failure(side.version)?.kind === 'neverReady') return false;
    return this.now() - side.since >= (this.options.deploySeconds + this.options.readySeconds) * 1000;
  }

  private failure(version: string): DeployFailure | undefined {
    return this.options.failures.find(f => f.versionPattern.test(version));
  }

  async ensure(context: ReleaseTargetContext, side: DeploySide, version: string): Promise<DeployStatus> {
    if (this.failure(version)?.kind === 'fails') {
      throw new Error(`simulated deploy failure: the image of ${version} cannot be pulled`);
    }
    const sides = this.of(context.entityRef);
    const state = sides[side];
    if (state.version !== version || (side === 'canary' && !sides.canary.up)) {
      state.version = version;
      state.since = this.now();
      if (side === 'canary') sides.canary.up = true;
    }
    const elapsed = (this.now() - state.since) / 1000;
    const done = this.isReady(state);
    let progress = `${version} running, waiting for its readiness check`;
    if (elapsed < this.options.deploySeconds) progress = `rolling out ${version} (${elapsed.toFixed(0)} of ${this.options.deploySeconds} s)`;
    if (done) progress = `${version} ready`;
    return { done, progress, sides: await this.readSides(context) };
  }

  async scaleDownCanary(context: ReleaseTargetContext): Promise<DeployStatus> {
    this.of(context.entityRef).canary.up = false;
    return { done: true, progress: 'canary scaled down', sides: await this.readSides(context) };
  }

  async readSides(context: ReleaseTargetContext): Promise<SideVersions> {
    const sides = this.of(context.entityRef);
    return { stable: sides.stable.version, canary: sides.canary.up ? sides.canary.version : undefined, canaryUp: sides.canary.up };
  }
}
