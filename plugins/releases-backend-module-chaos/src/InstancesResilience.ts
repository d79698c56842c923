import { FaultKind } from '@release-pilot/plugin-releases-common';
import { FaultInjector, GateFault, ReleaseTargetContext, ResilienceParts } from '@release-pilot/plugin-releases-node';
import { CommandInjector } from './command/CommandInjector';
import { DEFAULT_INJECTORS, InstancesResilienceOptions } from './config';
import { instancesOf, InstanceInjector } from './instances';
import { AutocannonLoad } from './load/AutocannonLoad';
import { NftablesInjector } from './netns/NftablesInjector';
import { ProxyInjector } from './proxy/ProxyInjector';
import { SignalInjector } from './signals/SignalInjector';
import { StateFiles } from './state';
import { StressInjector } from './stress/StressInjector';

/**
 * The resilience gate on two instances on this host: the canary and a stable-version instance
 * that takes no production traffic. Each fault kind goes to its injector (the fault proxy,
 * nftables, signals, stress-ng or your commands), on both instances at once; the load is
 * autocannon's. Every injector honours the fault's TTL by itself.
 */
export class InstancesResilience implements FaultInjector, ResilienceParts {
  readonly load: AutocannonLoad;
  readonly #injectors: Record<FaultKind, InstanceInjector>;
  /** Per release, the fault on its instances as far as this backend knows; absent after a restart, so the first clear clears all. */
  readonly #applied = new Map<string, { kind: FaultKind; id: string } | 'clear'>();

  constructor(private readonly options: InstancesResilienceOptions) {
    const state = new StateFiles(options.stateDirectory);
    const builtIn = { proxy: new ProxyInjector(), nftables: new NftablesInjector(), signal: new SignalInjector(state), 'stress-ng': new StressInjector(state) };
    const choices = { ...DEFAULT_INJECTORS, ...options.injectors };
    this.#injectors = Object.fromEntries(
      Object.entries(choices).map(([kind, choice]) => [kind, typeof choice === 'string' ? builtIn[choice] : new CommandInjector(choice, state)]),
    ) as unknown as Record<FaultKind, InstanceInjector>;
    this.load = new AutocannonLoad(options);
  }

  get injector(): FaultInjector {
    return this;
  }

  async inject(context: ReleaseTargetContext, fault: GateFault): Promise<void> {
    const applied = this.#applied.get(context.releaseId);
    const kind = fault.experiment.fault;
    if (applied !== 'clear' && applied?.id === fault.id) return;
    if (applied !== 'clear' && applied && applied.kind !== kind) await this.clear(context);
    const instances = instancesOf(this.options, context);
    await Promise.all([instances.canary, instances.stable].map(instance => this.#injectors[kind].inject(instance, fault, context)));
    this.#applied.set(context.releaseId, { kind, id: fault.id });
  }

  async clear(context: ReleaseTargetContext): Promise<void> {
    const applied = this.#applied.get(context.releaseId);
    if (applied === 'clear') return;
    const instances = instancesOf(this.options, context);
    // What this backend applied, or, when it does not know (a restart, a takeover), everything.
    const injectors = applied ? [this.#injectors[applied.kind]] : [...new Set(Object.values(this.#injectors))];
    for (const injector of injectors) {
      await Promise.all([instances.canary, instances.stable].map(instance => injector.clear(instance, context)));
    }
    this.#applied.set(context.releaseId, 'clear');
  }
}
