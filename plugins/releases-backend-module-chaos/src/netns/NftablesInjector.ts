import { GateFault } from '@release-pilot/plugin-releases-node';
import { Instance, InstanceInjector } from '../instances';
import { namespaceExists, nftIn } from './namespaces';

/** The table this injector owns in each instance's namespace; nothing else there is touched. */
export const NFT_TABLE = 'release_pilot';

/**
 * The nftables script for a fault: the table is replaced atomically, and the fault is an element
 * of a set with the fault's TTL as its timeout, so the kernel itself removes it when the TTL
 * passes, whatever happens to the backend. `dependencyUnavailable` rejects the instance's
 * connections to its dependency (TCP reset); `packetLoss` drops a share of every packet the
 * instance sends or receives.
 */
export function nftScript(fault: GateFault, dependency: { address: string; port: number } | undefined): string {
  const { experiment } = fault;
  const permille = Math.round(Math.min(Math.max(experiment.intensity ?? 0.1, 0), 1) * 1000);
  const share = permille >= 1000 ? '' : `numgen random mod 1000 < ${permille} `;
  const ttl = `${Math.max(1, Math.ceil(fault.ttlSeconds))}s`;
  const element =
    experiment.fault === 'dependencyUnavailable'
      ? `add element inet ${NFT_TABLE} unavailable { ${dependency!.address} . ${dependency!.port} timeout ${ttl} }`
      : `add element inet ${NFT_TABLE} lossy { tcp timeout ${ttl} }`;
  return `table inet ${NFT_TABLE}
delete table inet ${NFT_TABLE}
table inet ${NFT_TABLE} {
  comment "release pilot fault ${fault.id.replace(/[^\w/.-]/g, '')}"
  set unavailable { type ipv4_addr . inet_service; flags timeout; }
  set lossy { type inet_proto; flags timeout; }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr . tcp dport @unavailable reject with tcp reset
    meta l4proto @lossy ${share}drop
  }
  chain input {
    type filter hook input priority 0; policy accept;
    meta l4proto @lossy ${share}drop
  }
}
${element}
`;
}

/** Packet loss and dependency unavailability with nftables, in the network namespace around each instance. */
export class NftablesInjector implements InstanceInjector {
  async inject(instance: Instance, fault: GateFault): Promise<void> {
    const netns = await this.namespace(instance);
    let dependency: { address: string; port: number } | undefined;
    if (fault.experiment.fault === 'dependencyUnavailable') {
      if (!instance.dependency) throw new Error(`the ${instance.side} instance names no dependency to make unavailable`);
      const [address, port] = instance.dependency.split(':');
      dependency = { address, port: Number(port) };
    } else if (fault.experiment.fault !== 'packetLoss') {
      throw new Error(`nftables cannot inject ${fault.experiment.fault}`);
    }
    await nftIn(netns, ['-f', '-'], nftScript(fault, dependency));
  }

  async clear(instance: Instance): Promise<void> {
    if (!instance.netns || !(await namespaceExists(instance.netns))) return;
    await nftIn(instance.netns, ['-f', '-'], `table inet ${NFT_TABLE}\ndelete table inet ${NFT_TABLE}\n`);
  }

  private async namespace(instance: Instance): Promise<string> {
    if (!instance.netns) throw new Error(`the ${instance.side} instance names no network namespace (netns) for nftables faults`);
    if (!(await namespaceExists(instance.netns))) throw new Error(`the network namespace '${instance.netns}' of the ${instance.side} instance does not exist`);
    return instance.netns;
  }
}
