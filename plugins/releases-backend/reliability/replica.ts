import { DEFAULT_WATCH_OPTIONS, JudgeCatalog, SequentialJudge, systemClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../src/database/ReleasesStore';
import { ReleaseDriver } from '../src/driver/ReleaseDriver';
import { TargetRegistry } from '../src/driver/TargetRegistry';
import { DEFAULT_BASELINE, SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { connect, consoleLogger, databaseService, REGIONS, SharedDeployer, SharedFleetMetrics, SharedRouter } from './shared';

/**
 * One replica of the reliability run: the releases plugin's driver (store, leases, judge, engine)
 * on PostgreSQL, ticking every second as the backend's scheduler does, against the shared router
 * and deployer and the simulated fleet's metrics. Killed with SIGKILL by the run at random moments.
 */
async function main() {
  const [database, routerUrl, owner] = process.argv.slice(2);
  const logger = consoleLogger(owner, process.env.RELEASE_PILOT_RELIABILITY_VERBOSE !== 'info');
  // A backend's pool (knex's default of 10); RELEASE_PILOT_RELIABILITY_POOL runs the replicas with another size.
  const store = await ReleasesStore.create({ database: databaseService(connect(database, Number(process.env.RELEASE_PILOT_RELIABILITY_POOL ?? 10))) });
  const router = new SharedRouter(routerUrl, owner);
  // RELEASE_PILOT_RELIABILITY_ROUTER_FIRST=1 shows what the database-restart run catches: a driver
  // that gives the canary its next step's traffic before that decision is saved.
  if (process.env.RELEASE_PILOT_RELIABILITY_ROUTER_FIRST) {
    const save = store.saveRelease.bind(store);
    store.saveRelease = async (previous, next, ...rest) => {
      if (next.canaryWeight > previous.canaryWeight && !next.region) {
        await router.setCanaryWeight({ entityRef: next.entityRef, releaseId: next.id, version: next.version, annotations: {} }, next.canaryWeight);
      }
      return save(previous, next, ...rest);
    };
  }
  // A version faulty everywhere ends in `-faulty`; one faulty in a single region in `-faulty-in-<region>`.
  const fleetOf = (region?: string) =>
    new SimulatedFleet({
      seed: 11,
      rps: 400,
      baseline: DEFAULT_BASELINE,
      faults: [new RegExp(region ? `-faulty(-in-${region})?$` : '-faulty$')].map(versionPattern => ({ versionPattern, errorRate: 0.02, latencyMs: { p50: 400, p95: 1500 } })),
    });
  const targets = new TargetRegistry();
  targets.add({ name: 'simulator', trafficRouter: router, metricProvider: new SharedFleetMetrics(fleetOf(), router), deployer: new SharedDeployer(routerUrl, owner) });
  // A target across regions: each region's traffic and sides are its own on the shared router.
  targets.addRegions({
    name: 'regions',
    regions: Object.fromEntries(
      REGIONS.map(region => {
        const regionRouter = new SharedRouter(routerUrl, owner, region);
        return [region, { trafficRouter: regionRouter, metricProvider: new SharedFleetMetrics(fleetOf(region), regionRouter), deployer: new SharedDeployer(routerUrl, owner, region) }];
      }),
    ),
  });
  // RELEASE_PILOT_RELIABILITY_BROKEN_REGIONS=1 shows what the run catches: a driver whose region
  // coordinator never rolls back a region that already succeeded, so a failure in a later wave
  // leaves the earlier waves on the new version.
  class RegionsLeftBehind extends ReleaseDriver {
    async applyUserAction(...args: Parameters<ReleaseDriver['applyUserAction']>) {
      const [id, action, actor] = args;
      const release = await store.getRelease(id);
      if (action === 'rollback' && actor === 'release-pilot' && release.region && release.state === 'succeeded') return release;
      return super.applyUserAction(...args);
    }
  }
  const driver = new (process.env.RELEASE_PILOT_RELIABILITY_BROKEN_REGIONS ? RegionsLeftBehind : ReleaseDriver)({
    store,
    targets,
    judges: JudgeCatalog.of(new SequentialJudge()),
    watch: new WatchJudge(DEFAULT_WATCH_OPTIONS),
    clock: systemClock,
    logger,
    owner,
    options: { analysisWindowSeconds: 30, leaseSeconds: 2, engine: { maxConsecutiveProviderErrors: 10 } },
  });
  // The run's verbose mode asks, at its end, what each replica's loop is at.
  process.on('SIGUSR2', () => process.stdout.write(`health ${owner} ${JSON.stringify(driver.health())}\n`));
  process.stdout.write(`${owner} ready\n`);
  for (;;) {
    const started = Date.now();
    await driver.tickAndWatch(1).catch(error => logger.warn(`tick failed: ${error.message}`));
    await new Promise(resolve => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
  }
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
