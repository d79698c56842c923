import http from 'node:http';
import net from 'node:net';
import { GateFault, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { FaultKind } from '@release-pilot/plugin-releases-common';
import { Instance } from './instances';

export const context: ReleaseTargetContext = { entityRef: 'component:default/checkout', releaseId: 'r1', version: '2.0.0', annotations: {} };

export function fault(kind: FaultKind, intensity?: number, ttlSeconds = 60, id = 'r1/0'): GateFault {
  return { id, ttlSeconds, experiment: { name: kind, fault: kind, durationSeconds: 10, intensity, recoverySeconds: 10 } };
}

export function instance(overrides: Partial<Instance> = {}): Instance {
  return { side: 'canary', url: 'http://127.0.0.1:1/', ...overrides };
}

/** An HTTP server on `host` answering `handler`; its port, and close(). */
export async function serve(handler: http.RequestListener, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 1000;
  await new Promise<void>(resolve => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>(resolve => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** Whether this process may create network namespaces and run nft (root, with iproute2 and nftables). */
export function canUseNetns(): boolean {
  return process.getuid?.() === 0;
}
