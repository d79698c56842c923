import { ActiveFault, faultOf, SeededRandom, simulateGateTick } from '@release-pilot/plugin-releases-core';
import { FaultInjector, GateFault, GateLoad, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';

/** A version the simulated fleet runs fragile: healthy, until its dependency slows down and its connection pool runs out. */
export const FRAGILE_VERSION = /-fragile$/;

interface GateInstances {
  lastReadAt: number;
  fault?: { fault: GateFault; until: number };
  ended?: { fault: ActiveFault; at: number };
  random: SeededRandom;
}

/**
 * The resilience gate on the simulated fleet: a fault injector and a synthetic load of `rps`
 * requests per second on each of the release's canary and a stable instance, in the fleet's time.
 * A `-fragile` canary runs out of dependency connections under extra dependency latency; every
 * other version is as resilient as the stable one. Faults honour their TTL.
 */
export class SimulatedResilience implements FaultInjector, GateLoad {
  readonly #instances = new Map<string, GateInstances>();
  /** Every fault applied and cleared, for tests: what a real injector's target would have seen. */
  readonly log: Array<{ at: number; releaseId: string; action: 'inject' | 'clear'; id?: string }> = [];

  constructor(private readonly options: { rps: number; seed: number; now?: () => number }) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private instances(context: ReleaseTargetContext): GateInstances {
    let instances = this.#instances.get(context.releaseId);
    if (!instances) {
      instances = { lastReadAt: this.now() - 1000, random: SeededRandom.fromKey(`${this.options.seed}/${context.releaseId}`) };
      this.#instances.set(context.releaseId, instances);
    }
    return instances;
  }

  /** The fault on the release's instances now (none once its TTL passed). */
  active(releaseId: string): GateFault | undefined {
    const fault = this.#instances.get(releaseId)?.fault;
    return fault && this.now() < fault.until ? fault.fault : undefined;
  }

  async inject(context: ReleaseTargetContext, fault: GateFault): Promise<void> {
    const instances = this.instances(context);
    if (instances.fault?.fault.id === fault.id && this.now() < instances.fault.until) return;
    instances.fault = { fault, until: this.now() + fault.ttlSeconds * 1000 };
    this.log.push({ at: this.now(), releaseId: context.releaseId, action: 'inject', id: fault.id });
  }

  async clear(context: ReleaseTargetContext): Promise<void> {
    const instances = this.#instances.get(context.releaseId);
    if (!instances?.fault) return;
    const { experiment } = instances.fault.fault;
    instances.ended = { fault: faultOf(experiment), at: Math.min(this.now(), instances.fault.until) };
    instances.fault = undefined;
    this.log.push({ at: this.now(), releaseId: context.releaseId, action: 'clear' });
  }

  async read(context: ReleaseTargetContext) {
    const instances = this.instances(context);
    const now = this.now();
    const seconds = Math.max(0, (now - instances.lastReadAt) / 1000);
    instances.lastReadAt = now;
    const on = this.active(context.releaseId)?.experiment;
    const fault = on && faultOf(on);
    const after = instances.ended && { fault: instances.ended.fault, seconds: (now - instances.ended.at) / 1000 };
    const fragile = FRAGILE_VERSION.test(context.version);
    return {
      canary: simulateGateTick(instances.random, { fragile, rps: this.options.rps }, seconds, fault, after),
      stable: simulateGateTick(instances.random, { fragile: false, rps: this.options.rps }, seconds, fault, after),
      seconds,
    };
  }

  async stop(context: ReleaseTargetContext): Promise<void> {
    this.#instances.delete(context.releaseId);
  }
}
