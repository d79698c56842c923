import { Config } from '@backstage/config';
import { FAULT_KINDS, FaultKind } from '@release-pilot/plugin-releases-common';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';

/** Names the kernel and our tools accept: a network namespace, a set, a file name. `${entityName}` is filled in. */
const name = z.string().regex(/^([a-z0-9-]|\$\{entityName\})+$/, 'lowercase letters, digits and dashes; ${entityName} is filled in');
const hostPort = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/, 'an IPv4 address and a port, e.g. 10.203.0.1:7400');
const url = z.string().regex(/^http:\/\/[^\s/]+(\/\S*)?$/, 'an http URL; ${entityName} is filled in');
const command = z.array(z.string().min(1)).min(1);

/** One instance the gate runs experiments on: the canary, or a stable-version instance that takes no production traffic. */
export const instanceSchema = z
  .object({
    /** Where the synthetic load goes, e.g. http://10.203.0.2:8080/checkout. */
    url,
    /** The network namespace the instance runs in (`release-pilot-netns up` creates it): packet loss and unavailability go there. */
    netns: name.optional(),
    /** The instance's dependency, as the instance reaches it: what `dependencyUnavailable` rejects. */
    dependency: hostPort.optional(),
    /** The control URL of the fault proxy in front of its dependency (`release-pilot-fault-proxy`): latency and errors. */
    proxy: url.optional(),
    /** A file holding the instance's process id: `instanceKill` kills it (its supervisor restarts it), `instancePause` stops and continues it. */
    pidFile: z.string().regex(/^\/[\w./${}-]+$/, 'an absolute path; ${entityName} is filled in').optional(),
  })
  .strict();

export type InstanceOptions = z.infer<typeof instanceSchema>;

const commandInjector = z
  .object({
    type: z.literal('command'),
    /** Run (no shell) when the fault goes on; the fault is in its environment (RELEASE_PILOT_FAULT, _INTENSITY, _TTL_SECONDS, _INSTANCE, ...). */
    inject: command,
    /** Run when the fault comes off; it must succeed when there is nothing to remove. */
    clear: command,
    timeoutSeconds: z.number().positive().max(120).default(30),
  })
  .strict();

/** Which injector applies each fault kind: a built-in one, or your own commands (chaosd, the Toxiproxy CLI, Gremlin's CLI). */
const injectorChoice = z.union([z.enum(['proxy', 'nftables', 'signal', 'stress-ng']), commandInjector]);

export const DEFAULT_INJECTORS: Record<FaultKind, z.infer<typeof injectorChoice>> = {
  dependencyLatency: 'proxy',
  dependencyErrors: 'proxy',
  dependencyUnavailable: 'nftables',
  packetLoss: 'nftables',
  instanceKill: 'signal',
  instancePause: 'signal',
  cpuPressure: 'stress-ng',
  memoryPressure: 'stress-ng',
};

/** `releases.targets.<name>.resilience` of type `instances`. */
export const instancesResilienceSchema = z
  .object({
    type: z.literal('instances'),
    instances: z.object({ canary: instanceSchema, stable: instanceSchema }).strict(),
    /** The synthetic load on each instance (autocannon). */
    load: z
      .object({
        rps: z.number().positive().max(10_000).default(50),
        connections: z.number().int().positive().max(256).default(8),
        timeoutSeconds: z.number().positive().max(30).default(2),
      })
      .strict()
      .default({ rps: 50, connections: 8, timeoutSeconds: 2 }),
    injectors: z.partialRecord(z.enum(FAULT_KINDS), injectorChoice).default({}),
    /** Where process ids of running fault tools (stress-ng) are kept, so a restarted backend can stop them. */
    stateDirectory: z.string().regex(/^\/[\w./-]+$/, 'an absolute path').default('/tmp/release-pilot-chaos'),
  })
  .strict();

export type InstancesResilienceOptions = z.infer<typeof instancesResilienceSchema>;
export type CommandInjectorOptions = z.infer<typeof commandInjector>;

export function readInstancesResilienceOptions(config: Config, at: string): InstancesResilienceOptions {
  return parseConfigBlock(instancesResilienceSchema, config, at);
}
