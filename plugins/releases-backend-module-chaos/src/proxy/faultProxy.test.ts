import { fault, freePort, instance, serve } from '../__testUtils__';
import { startFaultProxy } from './faultProxy';
import { ProxyInjector } from './ProxyInjector';

describe('the fault proxy and its injector', () => {
  let dependency: Awaited<ReturnType<typeof serve>>;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
  let port: number;
  let control: string;

  beforeAll(async () => {
    dependency = await serve((_req, res) => res.end('stock 7\n'));
    port = await freePort();
    const controlPort = await freePort();
    control = `http://127.0.0.1:${controlPort}`;
    proxy = await startFaultProxy({ port, target: `http://127.0.0.1:${dependency.port}`, controlPort });
  });
  afterAll(async () => {
    await proxy.stop();
    await dependency.close();
  });

  const timed = async () => {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/stock`);
    return { status: res.status, body: await res.text(), ms: Date.now() - started };
  };

  it('forwards untouched without a fault, adds latency with one, and drops it when cleared', async () => {
    const injector = new ProxyInjector();
    const on = instance({ proxy: control });
    expect(await timed()).toMatchObject({ status: 200, body: 'stock 7\n' });
    await injector.inject(on, fault('dependencyLatency', 300));
    const slow = await timed();
    expect(slow).toMatchObject({ status: 200, body: 'stock 7\n' });
    expect(slow.ms).toBeGreaterThanOrEqual(300);
    await injector.clear(on);
    expect((await timed()).ms).toBeLessThan(300);
    expect(proxy.fault()).toBeUndefined();
  });

  it('answers 503 for the fault\'s share of requests', async () => {
    const injector = new ProxyInjector();
    await injector.inject(instance({ proxy: control }), fault('dependencyErrors', 1));
    expect(await timed()).toMatchObject({ status: 503 });
    await injector.clear(instance({ proxy: control }));
    expect(await timed()).toMatchObject({ status: 200 });
  });

  it('drops a fault by itself when its TTL passes, with nobody left to clear it', async () => {
    await new ProxyInjector().inject(instance({ proxy: control }), fault('dependencyLatency', 300, 1));
    expect((await fetch(`${control}/fault`).then(r => r.json())).fault).toMatchObject({ latencyMs: 300 });
    await new Promise(resolve => setTimeout(resolve, 1100));
    expect((await fetch(`${control}/fault`).then(r => r.json())).fault).toBeNull();
    expect((await timed()).ms).toBeLessThan(300);
  });

  it('refuses a bad fault with a 400 that names the field, and keeps what it had', async () => {
    const res = await fetch(`${control}/fault`, { method: 'PUT', body: JSON.stringify({ id: 'x', latencyMs: -5, ttlSeconds: 10 }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('latencyMs');
    expect(proxy.fault()).toBeUndefined();
    await expect(new ProxyInjector().inject(instance({ proxy: control }), fault('cpuPressure'))).rejects.toThrow('cannot inject cpuPressure');
  });
});
