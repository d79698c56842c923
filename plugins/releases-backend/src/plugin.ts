import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { releasesPermissions } from '@release-pilot/plugin-releases-common';
import {
  ReleaseTarget,
  releasesTargetsExtensionPoint,
} from '@release-pilot/plugin-releases-node';
import { randomUUID } from 'node:crypto';
import { readReleasesConfig } from './config';
import { ReleasesStore } from './database/ReleasesStore';
import { ReleaseDriver } from './driver/ReleaseDriver';
import { WatchJudge } from './analysis/watch/WatchJudge';
import { TargetRegistry } from './driver/TargetRegistry';
import { systemClock } from './engine/clock';
import { createRouter } from './service/router';
import { ReleasesService } from './service/ReleasesService';
import { RiskService } from './risk/RiskService';

/** Release Pilot's backend: the release engine, its driver and the `/api/releases` HTTP API. */
export const releasesPlugin = createBackendPlugin({
  pluginId: 'releases',
  register(env) {
    const targets = new TargetRegistry();
    env.registerExtensionPoint(releasesTargetsExtensionPoint, {
      addTarget(target: ReleaseTarget) {
        targets.add(target);
      },
      addTrafficRouterType(type, factory) {
        targets.addRouterType(type, factory);
      },
      addMetricProviderType(type, factory) {
        targets.addMetricProviderType(type, factory);
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auditor: coreServices.auditor,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
      },
      async init({
        config,
        logger,
        database,
        scheduler,
        httpRouter,
        httpAuth,
        auditor,
        permissions,
        permissionsRegistry,
        catalog,
      }) {
        const settings = readReleasesConfig(config);
        targets.configure(config, logger, (name, key) => {
          if (!settings.judges.names().includes(name)) {
            throw new Error(`Invalid config ${key}: no analysis '${name}' under releases.analyses; known: ${settings.judges.names().join(', ') || 'none'}`);
          }
        });
        const store = await ReleasesStore.create({ database });
        const driver = new ReleaseDriver({
          store,
          targets,
          judges: settings.judges,
          watch: new WatchJudge(settings.watch),
          clock: systemClock,
          logger,
          owner: `releases-${randomUUID()}`,
          options: settings.driver,
        });
        const risk = new RiskService({ store, clock: systemClock, logger: logger.child({ component: 'risk' }), options: settings.risk });
        await risk.load();
        const service = new ReleasesService({
          store,
          driver,
          targets,
          plans: settings.plans,
          judges: settings.judges,
          catalog,
          clock: systemClock,
          risk,
        });

        permissionsRegistry.addPermissions(releasesPermissions);
        httpRouter.use(await createRouter({ service, httpAuth, auditor, permissions }));
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });

        await scheduler.scheduleTask({
          id: 'releases-driver',
          scope: 'local',
          frequency: { seconds: settings.tickSeconds },
          timeout: { seconds: Math.max(30, settings.tickSeconds * 10) },
          initialDelay: { seconds: settings.tickSeconds },
          fn: () => driver.tick(),
        });
        await scheduler.scheduleTask({
          id: 'releases-risk-training',
          // Every replica trains the same (seeded) model from the same history, so each predicts alike.
          scope: 'local',
          frequency: { hours: settings.risk.retrainHours },
          timeout: { minutes: 10 },
          initialDelay: { seconds: 30 },
          fn: async () => {
            await risk.retrain();
          },
        });
        logger.info(
          `Release driver ticks every ${settings.tickSeconds}s; targets: ${targets.names().join(', ') || 'none'}`,
        );
      },
    });
  },
});
