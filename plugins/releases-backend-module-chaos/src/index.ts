/**
 * Release Pilot's resilience gate on instances of a host: fault injectors (nftables in network
 * namespaces, a fault-injecting proxy, signals, stress-ng, your own commands) and autocannon load.
 *
 * @packageDocumentation
 */
export { releasesModuleChaos as default } from './module';
export { InstancesResilience } from './InstancesResilience';
export { instancesResilienceSchema, readInstancesResilienceOptions, DEFAULT_INJECTORS } from './config';
export type { InstancesResilienceOptions, InstanceOptions, CommandInjectorOptions } from './config';
export { instancesOf } from './instances';
export type { Instance, InstanceInjector, Side } from './instances';
export { NftablesInjector, NFT_TABLE, nftScript } from './netns/NftablesInjector';
export { ensureNamespace, removeNamespace, namespaceExists, vethNames, nftIn } from './netns/namespaces';
export { ProxyInjector } from './proxy/ProxyInjector';
export { startFaultProxy, proxyFaultSchema } from './proxy/faultProxy';
export type { FaultProxyOptions, ProxyFault } from './proxy/faultProxy';
export { SignalInjector } from './signals/SignalInjector';
export { StressInjector } from './stress/StressInjector';
export { CommandInjector } from './command/CommandInjector';
export { AutocannonLoad } from './load/AutocannonLoad';
export { faultProxyMain } from './proxy/main';
export { netnsMain } from './netns/main';
