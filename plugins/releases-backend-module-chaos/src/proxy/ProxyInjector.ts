import { GateFault } from '@release-pilot/plugin-releases-node';
import { Instance, InstanceInjector } from '../instances';

/** Dependency latency and errors through the fault proxy in front of each instance's dependency. */
export class ProxyInjector implements InstanceInjector {
  constructor(private readonly timeoutMs = 3000) {}

  async inject(instance: Instance, fault: GateFault): Promise<void> {
    const { experiment } = fault;
    const bodies: Partial<Record<string, object>> = {
      dependencyLatency: { latencyMs: experiment.intensity ?? 200 },
      dependencyErrors: { errorShare: experiment.intensity ?? 0.5 },
    };
    const body = bodies[experiment.fault];
    if (!body) throw new Error(`the fault proxy cannot inject ${experiment.fault}`);
    await this.call(instance, 'PUT', { id: fault.id, ...body, ttlSeconds: Math.max(1, Math.ceil(fault.ttlSeconds)) });
  }

  async clear(instance: Instance): Promise<void> {
    if (instance.proxy) await this.call(instance, 'DELETE');
  }

  private async call(instance: Instance, method: 'PUT' | 'DELETE', body?: object): Promise<void> {
    if (!instance.proxy) throw new Error(`the ${instance.side} instance names no fault proxy for dependency faults`);
    const res = await fetch(`${instance.proxy.replace(/\/$/, '')}/fault`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`the fault proxy of the ${instance.side} instance answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}
