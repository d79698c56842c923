import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { context, fault, freePort, serve } from './__testUtils__';
import { readInstancesResilienceOptions } from './config';
import { instancesOf } from './instances';
import { InstancesResilience } from './InstancesResilience';
import { startFaultProxy } from './proxy/faultProxy';

describe('the instances resilience gate', () => {
  it('puts each fault on both instances at once, through the injector of its kind, and clears it', async () => {
    const dependency = await serve((_req, res) => res.end('ok'));
    const proxies = await Promise.all([0, 1].map(async () => {
      const controlPort = await freePort();
      return { controlPort, proxy: await startFaultProxy({ port: await freePort(), target: `http://127.0.0.1:${dependency.port}`, controlPort }) };
    }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-instances-'));
    const log = path.join(dir, 'log');
    const options = readInstancesResilienceOptions(
      new ConfigReader({
        type: 'instances',
        instances: {
          canary: { url: 'http://127.0.0.1:1/', proxy: `http://127.0.0.1:${proxies[0].controlPort}` },
          stable: { url: 'http://127.0.0.1:2/', proxy: `http://127.0.0.1:${proxies[1].controlPort}` },
        },
        injectors: { cpuPressure: { type: 'command', inject: [process.execPath, '-e', `require('fs').appendFileSync('${log}', process.env.RELEASE_PILOT_INSTANCE + ' on\\n')`], clear: [process.execPath, '-e', `require('fs').appendFileSync('${log}', process.env.RELEASE_PILOT_INSTANCE + ' off\\n')`] } },
        stateDirectory: dir,
      }),
      'releases.targets.vm.resilience',
    );
    const gate = new InstancesResilience(options);
    await gate.inject(context, fault('dependencyLatency', 100));
    expect(proxies.map(p => p.proxy.fault()?.latencyMs)).toEqual([100, 100]);
    // The next experiment, another kind: the old fault comes off first.
    await gate.inject(context, fault('cpuPressure', 50, 60, 'r1/1'));
    expect(proxies.map(p => p.proxy.fault())).toEqual([undefined, undefined]);
    expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['canary on', 'stable on']);
    await gate.clear(context);
    await gate.clear(context); // known clear: nothing runs again
    expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['canary off', 'canary on', 'stable off', 'stable on']);

    // A backend that restarted knows nothing: its first clear takes every kind off.
    await gate.inject(context, fault('dependencyErrors', 0.5, 60, 'r1/2'));
    const restarted = new InstancesResilience(options);
    await restarted.clear(context);
    expect(proxies.map(p => p.proxy.fault())).toEqual([undefined, undefined]);
    await Promise.all(proxies.map(p => p.proxy.stop()));
    await dependency.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fills ${entityName} in, and refuses an entity name that could reach anything else', () => {
    const options = readInstancesResilienceOptions(
      new ConfigReader({ type: 'instances', instances: { canary: { url: 'http://gate-${entityName}-canary:8080/', netns: 'rp-${entityName}-canary' }, stable: { url: 'http://gate-${entityName}-stable:8080/' } } }),
      'at',
    );
    expect(instancesOf(options, context).canary).toEqual({ side: 'canary', url: 'http://gate-checkout-canary:8080/', netns: 'rp-checkout-canary' });
    expect(() => instancesOf(options, { ...context, entityRef: 'component:default/Check_out' })).toThrow("the entity name 'Check_out' cannot name a gate instance");
  });

  it('names each bad config key', () => {
    const read = (resilience: object) => () => readInstancesResilienceOptions(new ConfigReader(resilience), 'releases.targets.vm.resilience');
    expect(read({ type: 'instances', instances: { canary: { url: 'ftp://x' }, stable: { url: 'http://x/' } } })).toThrow('releases.targets.vm.resilience.instances.canary.url');
    expect(read({ type: 'instances', instances: { canary: { url: 'http://x/', netns: 'a b' }, stable: { url: 'http://x/' } } })).toThrow('instances.canary.netns');
    expect(read({ type: 'instances', instances: { canary: { url: 'http://x/' }, stable: { url: 'http://x/' } }, injectors: { packetLoss: 'tc' } })).toThrow('injectors.packetLoss');
    expect(read({ type: 'instances', instances: { canary: { url: 'http://x/' } } })).toThrow('instances.stable');
  });
});
