import net from 'node:net';
import { run } from '../run';
import { canUseNetns, fault, instance } from '../__testUtils__';
import { ensureNamespace, namespaceExists, nftIn, removeNamespace, vethNames } from './namespaces';
import { NftablesInjector } from './NftablesInjector';

const NS = 'rp-test-nft';
const HOST = '10.203.250.1';
const INSIDE = '10.203.250.2';
const describeRoot = canUseNetns() ? describe : describe.skip;

/** Connects from inside the namespace to the host's end: 'open', 'refused' or 'timeout'. */
async function connectFromNamespace(port: number): Promise<string> {
  const script = `const s=require('net').connect(${port},'${HOST}');s.setTimeout(1500);s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log(e.code==='ECONNREFUSED'||e.code==='ECONNRESET'?'refused':e.code);process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)})`;
  return (await run('ip', ['netns', 'exec', NS, process.execPath, '-e', script])).trim();
}

describeRoot('nftables faults in a network namespace around the instance', () => {
  let dependency: net.Server;
  let port: number;
  const on = instance({ netns: NS });

  beforeAll(async () => {
    await removeNamespace(NS);
    await ensureNamespace(NS, `${HOST}/30`, `${INSIDE}/30`);
    await ensureNamespace(NS, `${HOST}/30`, `${INSIDE}/30`); // idempotent
    dependency = net.createServer(socket => socket.end());
    await new Promise<void>(resolve => dependency.listen(0, HOST, resolve));
    port = (dependency.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    dependency?.close();
    await removeNamespace(NS);
  });

  it('removes the namespace and its veth pair again', async () => {
    await ensureNamespace('rp-test-nft-2', '10.203.249.1/30', '10.203.249.2/30');
    expect(await namespaceExists('rp-test-nft-2')).toBe(true);
    await removeNamespace('rp-test-nft-2');
    expect(await namespaceExists('rp-test-nft-2')).toBe(false);
    expect(await run('ip', ['-o', 'link', 'show'])).not.toContain(vethNames('rp-test-nft-2').host);
  });

  it('rejects the instance\'s connections to its dependency until cleared, and touches nothing else', async () => {
    const injector = new NftablesInjector();
    const withDependency = { ...on, dependency: `${HOST}:${port}` };
    expect(await connectFromNamespace(port)).toBe('open');
    await injector.inject(withDependency, fault('dependencyUnavailable'));
    expect(await connectFromNamespace(port)).toBe('refused');
    // The host itself still reaches the dependency: the rule lives in the instance's namespace only.
    await new Promise<void>((resolve, reject) => net.connect(port, HOST).on('connect', resolve).on('error', reject));
    await injector.clear(withDependency);
    expect(await connectFromNamespace(port)).toBe('open');
    expect(await nftIn(NS, ['list', 'ruleset'])).not.toContain('release_pilot');
  });

  it('drops packets: with a loss of 1 nothing gets through', async () => {
    const injector = new NftablesInjector();
    await injector.inject(on, fault('packetLoss', 1));
    expect(await connectFromNamespace(port)).toBe('timeout');
    await injector.clear(on);
    expect(await connectFromNamespace(port)).toBe('open');
  });

  it('leaves nothing once the TTL passes, with nobody left to clear it: the kernel times the set element out', async () => {
    await new NftablesInjector().inject({ ...on, dependency: `${HOST}:${port}` }, fault('dependencyUnavailable', undefined, 1));
    expect(await nftIn(NS, ['list', 'set', 'inet', 'release_pilot', 'unavailable'])).toContain(`${HOST} . ${port}`);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(await nftIn(NS, ['list', 'set', 'inet', 'release_pilot', 'unavailable'])).not.toContain('elements');
    expect(await connectFromNamespace(port)).toBe('open');
  });

  it('says what is missing: no namespace, no dependency, a namespace that does not exist', async () => {
    const injector = new NftablesInjector();
    await expect(injector.inject(instance(), fault('packetLoss', 0.1))).rejects.toThrow('names no network namespace');
    await expect(injector.inject(on, fault('dependencyUnavailable'))).rejects.toThrow('names no dependency');
    await expect(injector.inject(instance({ netns: 'rp-test-absent' }), fault('packetLoss', 0.1))).rejects.toThrow("'rp-test-absent' of the canary instance does not exist");
    await expect(injector.inject(on, fault('cpuPressure'))).rejects.toThrow('cannot inject cpuPressure');
    await expect(ensureNamespace('bad name; rm', '10.0.0.1/30', '10.0.0.2/30')).rejects.toThrow('is not a network namespace name');
  });
});
