import { createHash } from 'node:crypto';
import { run } from '../run';

/** A network namespace name this module creates or touches: lowercase letters, digits and dashes. */
export const NAMESPACE_NAME = /^[a-z0-9][a-z0-9-]{0,49}$/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3})\/(\d{1,2})$/;

function checkedName(name: string): string {
  if (!NAMESPACE_NAME.test(name)) throw new Error(`'${name}' is not a network namespace name (lowercase letters, digits, dashes, at most 50)`);
  return name;
}

/** The veth pair's names (15 characters at most): one end on the host, one in the namespace. */
export function vethNames(name: string): { host: string; inside: string } {
  const hash = createHash('sha256').update(checkedName(name)).digest('hex').slice(0, 8);
  return { host: `rph${hash}`, inside: `rpn${hash}` };
}

export async function namespaceExists(name: string): Promise<boolean> {
  const list = await run('ip', ['netns', 'list']);
  return list.split('\n').some(line => line.split(' ')[0] === checkedName(name));
}

/**
 * Creates the network namespace `name` around an instance, idempotently: a veth pair with
 * `hostAddress` (e.g. 10.203.0.1/30) on the host's end and `address` (10.203.0.2/30) inside, the
 * namespace's loopback up and its default route through the host. The instance then runs in it
 * (`ip netns exec <name> ...`), and the nftables injector's rules there touch no other process.
 */
export async function ensureNamespace(name: string, hostAddress: string, address: string): Promise<void> {
  const veth = vethNames(name);
  const [host, inside] = [CIDR.exec(hostAddress), CIDR.exec(address)];
  if (!host || !inside) throw new Error(`addresses must be IPv4 CIDRs such as 10.203.0.1/30, not '${hostAddress}' and '${address}'`);
  if (!(await namespaceExists(name))) await run('ip', ['netns', 'add', name]);
  const links = await run('ip', ['-o', 'link', 'show']);
  if (!links.includes(`${veth.host}@`)) {
    await run('ip', ['link', 'add', veth.host, 'type', 'veth', 'peer', 'name', veth.inside]);
    await run('ip', ['link', 'set', veth.inside, 'netns', name]);
    await run('ip', ['addr', 'add', hostAddress, 'dev', veth.host]);
    await run('ip', ['link', 'set', veth.host, 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', address, 'dev', veth.inside]);
    await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', veth.inside, 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    await run('ip', ['netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', host[1]]);
  }
}

/** Removes the namespace and its veth pair (nothing when they are gone). */
export async function removeNamespace(name: string): Promise<void> {
  if (await namespaceExists(name)) await run('ip', ['netns', 'delete', name]);
  await run('ip', ['link', 'delete', vethNames(name).host]).catch(() => undefined);
}

/** Runs `nft` inside the namespace. */
export function nftIn(name: string, args: string[], input?: string): Promise<string> {
  return run('ip', ['netns', 'exec', checkedName(name), 'nft', ...args], { input });
}
