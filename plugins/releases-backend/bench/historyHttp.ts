import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import type { Knex } from 'knex';
import { AddressInfo } from 'node:net';
import { releasesPlugin } from '../src/plugin';

/**
 * The org page's and a team overview's answers over HTTP, as the portal asks them: the releases
 * plugin in a backend (`startTestBackend`) on the seeded database, with its routes, the permission
 * check of each request and the catalog lookup of the team's groups. Each path's answer time is
 * the median of `runs` requests after one to warm up.
 */
export async function httpAnswerTimes(knex: Knex, team: string, paths: Record<string, string>, runs: number): Promise<Record<string, { ms: number; status: number; bytes: number }>> {
  const group = (name: string) => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name, namespace: 'default' }, spec: { type: 'team', children: [] } });
  const backend = await startTestBackend({
    features: [
      mockServices.database.factory({ knex, migrations: { skip: false } }),
      releasesPlugin,
      simulatorModule,
      catalogServiceMock.factory({ entities: [group(team.split('/')[1])] }),
      // No tick during the measurement (the first comes after an hour), and no risk retraining.
      mockServices.rootConfig.factory({ data: { releases: { engine: { tickSeconds: 3600 }, risk: { retrainHours: 1000 }, simulator: {} } } }),
    ],
  });
  try {
    const port = (backend.server.address() as AddressInfo).port;
    const headers = { Authorization: mockCredentials.user.header('user:default/bench') };
    const times: Record<string, { ms: number; status: number; bytes: number }> = {};
    for (const [name, path] of Object.entries(paths)) {
      const ask = async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/releases${path}`, { headers });
        return { status: response.status, bytes: (await response.arrayBuffer()).byteLength };
      };
      let last = await ask();
      const ms: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        last = await ask();
        ms.push(performance.now() - t0);
      }
      times[name] = { ms: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)], ...last };
    }
    return times;
  } finally {
    await backend.stop();
  }
}
