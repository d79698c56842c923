import { AuthService, LoggerService, SchedulerService } from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { RELATION_OWNED_BY, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { RELEASE_PILOT_TARGET_ANNOTATION } from '@release-pilot/plugin-releases-common';
import { Clock } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { RiskService } from '../risk/RiskService';
import { demoHistory } from './demoHistory';

/**
 * A demo portal's history (`releases.demo.history`): once the catalog has annotated entities and
 * the store has no release yet, `days` of seeded finished releases are stored and the risk model
 * retrained on them.
 */
export async function scheduleDemoHistory(deps: {
  settings: { days: number; seed: number };
  scheduler: SchedulerService;
  store: ReleasesStore;
  catalog: CatalogService;
  auth: AuthService;
  risk: RiskService;
  clock: Clock;
  logger: LoggerService;
}): Promise<void> {
  const { settings, scheduler, store, catalog, auth, risk, clock, logger } = deps;
  await scheduler.scheduleTask({
    id: 'releases-demo-history',
    scope: 'global',
    frequency: { seconds: 5 },
    timeout: { minutes: 1 },
    fn: async () => {
      if ((await store.listReleases({ limit: 1, offset: 0 })).totalCount > 0) return;
      const { items } = await catalog.getEntities(
        { filter: { [`metadata.annotations.${RELEASE_PILOT_TARGET_ANNOTATION}`]: CATALOG_FILTER_EXISTS } },
        { credentials: await auth.getOwnServiceCredentials() },
      );
      if (!items.length) return;
      const history = demoHistory({
        entities: items.map(entity => ({
          entityRef: stringifyEntityRef(entity),
          owner: entity.relations?.find(r => r.type === RELATION_OWNED_BY)?.targetRef,
          target: entity.metadata.annotations![RELEASE_PILOT_TARGET_ANNOTATION],
        })),
        days: settings.days,
        seed: settings.seed,
        now: clock.now(),
      });
      // Quiet: a signal per seeded release (two a release, at start-up) would reach nobody.
      for (const { release, events } of history) await store.createRelease(release, events, { quiet: true });
      await risk.retrain();
      logger.info(`Demo history: ${history.length} releases of ${items.length} entities over ${settings.days} days`);
    },
  });
}
