import { context, serve } from '../__testUtils__';
import { instancesResilienceSchema } from '../config';
import { AutocannonLoad } from './AutocannonLoad';

describe('the gate load (autocannon)', () => {
  it('sends the same rate at both instances and hands over each side\'s answers since the last read', async () => {
    const canary = await serve((_req, res) => setTimeout(() => { res.statusCode = Math.random() < 0.5 ? 500 : 200; res.end('x'); }, 20));
    const stable = await serve((_req, res) => setTimeout(() => res.end('ok'), 5));
    const options = instancesResilienceSchema.parse({
      type: 'instances',
      instances: { canary: { url: `http://127.0.0.1:${canary.port}/checkout` }, stable: { url: `http://127.0.0.1:${stable.port}/checkout` } },
      load: { rps: 100, connections: 4 },
    });
    const load = new AutocannonLoad(options);
    await load.read(context);
    await new Promise(resolve => setTimeout(resolve, 2000));
    const { canary: c, stable: s, seconds } = await load.read(context);
    expect(seconds).toBeGreaterThan(1.9);
    for (const side of [c, s]) {
      expect(side.requests).toBeGreaterThan(120);
      expect(side.requests).toBeLessThan(260);
      expect(side.latenciesMs).toHaveLength(side.requests);
    }
    expect(s.errors).toBe(0);
    expect(c.errors / c.requests).toBeGreaterThan(0.3);
    expect(c.errors / c.requests).toBeLessThan(0.7);
    expect(Math.min(...c.latenciesMs)).toBeGreaterThanOrEqual(19);
    const again = await load.read(context);
    expect(again.canary.requests).toBeLessThan(40);
    expect(load.running()).toEqual(['r1']);
    await load.stop(context);
    expect(load.running()).toEqual([]);
    await Promise.all([canary.close(), stable.close()]);
  });

  it('counts a refused connection as an error', async () => {
    const stable = await serve((_req, res) => res.end('ok'));
    const options = instancesResilienceSchema.parse({
      type: 'instances',
      instances: { canary: { url: 'http://127.0.0.1:9/checkout' }, stable: { url: `http://127.0.0.1:${stable.port}/` } },
      load: { rps: 50, connections: 2 },
    });
    const load = new AutocannonLoad(options);
    await load.read(context);
    await new Promise(resolve => setTimeout(resolve, 1000));
    const { canary } = await load.read(context);
    expect(canary.errors).toBeGreaterThan(0);
    expect(canary.errors).toBe(canary.requests);
    await load.stop(context);
    await stable.close();
  });
});
