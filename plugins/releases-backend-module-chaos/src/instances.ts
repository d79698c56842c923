import { entityNameOf, GateFault, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { InstanceOptions, InstancesResilienceOptions } from './config';

export type Side = 'canary' | 'stable';

/** One of the gate's two instances, with `${entityName}` filled in. */
export interface Instance extends InstanceOptions {
  side: Side;
}

/** Puts one kind of fault on one instance, and takes it off again; both idempotent. */
export interface InstanceInjector {
  inject(instance: Instance, fault: GateFault, context: ReleaseTargetContext): Promise<void>;
  clear(instance: Instance, context: ReleaseTargetContext): Promise<void>;
}

const ENTITY_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/**
 * The release's canary and stable instance: the configured ones, `${entityName}` filled in with
 * the entity's name, which must be lowercase letters, digits and dashes (it becomes part of
 * namespace names, URLs and paths, so nothing else may reach them).
 */
export function instancesOf(options: InstancesResilienceOptions, context: ReleaseTargetContext): Record<Side, Instance> {
  const entityName = entityNameOf(context);
  const templated = JSON.stringify(options.instances).includes('${entityName}');
  if (templated && !ENTITY_NAME.test(entityName)) {
    throw new Error(`the entity name '${entityName}' cannot name a gate instance: lowercase letters, digits and dashes, at most 40`);
  }
  const fill = (instance: InstanceOptions, side: Side): Instance => {
    const filled = Object.fromEntries(Object.entries(instance).map(([key, value]) => [key, value.replaceAll('${entityName}', entityName)]));
    return { ...(filled as InstanceOptions), side };
  };
  return { canary: fill(options.instances.canary, 'canary'), stable: fill(options.instances.stable, 'stable') };
}
