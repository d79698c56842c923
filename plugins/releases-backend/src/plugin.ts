import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { releasesPermissions } from '@release-pilot/plugin-releases-common';
import {
  ReleaseTarget,
  releasesTargetsExtensionPoint,
} from '@release-pilot/plugin-releases-node';
import { randomUUID } from 'node:crypto';
import { readReleasesConfig } from './config';
import { ReleasesStore } from './database/ReleasesStore';
import { ReleaseDriver } from './driver/ReleaseDriver';
import { systemClock, WatchJudge } from '@release-pilot/plugin-releases-core';
import { TargetRegistry } from './driver/TargetRegistry';
import { createRouter } from './service/router';
import { Access } from './service/access';
import { ReleaseOperations } from './service/ReleaseOperations';
import { registerReleaseActions } from './actions/registerReleaseActions';
import { ReleasesService } from './service/ReleasesService';
import { RiskService } from './risk/RiskService';
import { auditDecisions } from './driver/auditDecisions';
import { ChannelDelivery, readNotificationsConfig } from './notify/channels';
import { ReleaseNotifier } from './notify/ReleaseNotifier';
import { ReleaseSignals } from './notify/ReleaseSignals';
import { scheduleDemoHistory } from './demo/scheduleDemoHistory';
import { CommandDeployer, readCommandDeployerOptions } from './deployers/CommandDeployer';

/** Release Pilot's backend: the release engine, its driver and the `/api/releases` HTTP API. */
export const releasesPlugin = createBackendPlugin({
  pluginId: 'releases',
  register(env) {
    const targets = new TargetRegistry();
    // The team's own deploy step (a program or a webhook), built in; `none` is built into the registry.
    targets.addDeployerType('command', ({ targetName, config }) =>
      new CommandDeployer(readCommandDeployerOptions(config, `releases.targets.${targetName}.deployer`)),
    );
    env.registerExtensionPoint(releasesTargetsExtensionPoint, {
      addTarget(target: ReleaseTarget) {
        targets.add(target);
      },
      addRegionTarget(target) {
        targets.addRegions(target);
      },
      addTrafficRouterType(type, factory) {
        targets.addRouterType(type, factory);
      },
      addMetricProviderType(type, factory) {
        targets.addMetricProviderType(type, factory);
      },
      addDeployerType(type, factory) {
        targets.addDeployerType(type, factory);
      },
      addResilienceType(type, factory) {
        targets.addResilienceType(type, factory);
      },
    });

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auditor: coreServices.auditor,
        auth: coreServices.auth,
        notifications: notificationService,
        signals: signalsServiceRef,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
        actionsRegistry: actionsRegistryServiceRef,
      },
      async init({
        config,
        logger,
        database,
        scheduler,
        lifecycle,
        httpRouter,
        httpAuth,
        auditor,
        auth,
        notifications,
        signals,
        permissions,
        permissionsRegistry,
        catalog,
        actionsRegistry,
      }) {
        const settings = readReleasesConfig(config);
        for (const deprecation of settings.judges.deprecations) logger.warn(`Config ${deprecation}`);
        targets.configure(config, logger, (name, key) => settings.judges.assertConfigured(name, key));
        targets.checkExperiments(settings.plans.experimentIds());
        const store = await ReleasesStore.create({ database, judgeStateSeconds: settings.judgeStateSeconds });
        // Every saved change goes to the portal by push (Backstage signals).
        const live = new ReleaseSignals({ signals, logger: logger.child({ component: 'signals' }) });
        store.onSaved((release, changed) => live.saved(release, changed));
        const notificationsConfig = readNotificationsConfig(config);
        const notifier = new ReleaseNotifier({
          notifications,
          catalog,
          auth,
          logger: logger.child({ component: 'notify' }),
          config: notificationsConfig,
          delivery: new ChannelDelivery({ logger: logger.child({ component: 'channels' }), retry: notificationsConfig.retry, channels: notificationsConfig.channels }),
          appBaseUrl: config.getOptionalString('app.baseUrl') ?? '',
          store,
        });
        // This replica's id: the owner of the leases it takes, and what /health answers.
        const replica = `releases-${randomUUID()}`;
        const driver = new ReleaseDriver({
          store,
          targets,
          judges: settings.judges,
          watch: new WatchJudge(settings.watch),
          clock: systemClock,
          logger,
          owner: replica,
          options: settings.driver,
          outbox: notifier,
          onRecorded: (release, records) => {
            auditDecisions(auditor, release, records).catch(error =>
              logger.warn(`Auditing release ${release.id} failed: ${(error as Error).message}`),
            );
          },
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
          notifier,
          ownCredentials: () => auth.getOwnServiceCredentials(),
          tickSeconds: settings.tickSeconds,
        });

        lifecycle.addShutdownHook(() => driver.stop());
        permissionsRegistry.addPermissions(releasesPermissions);
        // One implementation behind the HTTP API and the actions registry (MCP tools for agents).
        const access = new Access(permissions);
        const operations = new ReleaseOperations({ service, access, auditor });
        httpRouter.use(await createRouter({ service, operations, access, httpAuth, auditor, replica }));
        registerReleaseActions(actionsRegistry, operations);
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });

        await scheduler.scheduleTask({
          id: 'releases-driver',
          scope: 'local',
          frequency: { seconds: settings.tickSeconds },
          timeout: { seconds: Math.max(30, settings.tickSeconds * 10) },
          initialDelay: { seconds: settings.tickSeconds },
          fn: () => driver.tickAndWatch(settings.tickSeconds),
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
        await scheduler.scheduleTask({
          id: 'releases-sample-retention',
          // One replica at a time: compaction rewrites an ended release's samples in one transaction.
          scope: 'global',
          frequency: { minutes: 10 },
          timeout: { minutes: 10 },
          initialDelay: { minutes: 1 },
          fn: async () => {
            const compacted = await store.retention.compactDue(systemClock.now(), settings.retention);
            if (compacted.releases > 0) {
              logger.info(`Compacted the samples of ${compacted.releases} ended release(s): ${compacted.rowsBefore} rows into ${compacted.rowsAfter}`);
            }
          },
        });
        if (settings.demoHistory) {
          await scheduleDemoHistory({ settings: settings.demoHistory, scheduler, store, catalog, auth, risk, clock: systemClock, logger });
        }
        logger.info(
          `Release driver ticks every ${settings.tickSeconds}s; targets: ${targets.names().join(', ') || 'none'}`,
        );
      },
    });
  },
});
