/**
 * The simulated fleet: Release Pilot's embedded default target.
 *
 * @packageDocumentation
 */
export { releasesModuleSimulator as default } from './module';
export { SimulatedFleet, DEFAULT_BASELINE, CHECKOUT_INCIDENT_FAULT } from './SimulatedFleet';
export type { SimulatedFleetOptions, FaultProfile, RouterOutage } from './SimulatedFleet';

export { SimulatedDeployer, DEFAULT_SIMULATED_DEPLOYER } from './SimulatedDeployer';
export { SimulatedResilience, FRAGILE_VERSION } from './SimulatedResilience';
export type { SimulatedDeployerOptions, DeployFailure } from './SimulatedDeployer';
