import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';

/** SQLite always; PostgreSQL when the test script gives BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING. */
export function createTestDatabases(): TestDatabases {
  return TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'], disableDocker: true });
}

/**
 * The database service of a test backend with several plugins (releases, notifications, ...): each
 * plugin gets a fresh database of its own, as the real backend gives each plugin its own, so their
 * migrations never meet in one table.
 */
export function perPluginDatabaseFactory(databases: TestDatabases, id: TestDatabaseId) {
  const clients = new Map<string, Promise<Knex>>();
  return createServiceFactory({
    service: coreServices.database,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) => {
      const pluginId = plugin.getId();
      if (!clients.has(pluginId)) clients.set(pluginId, databases.init(id));
      return { getClient: () => clients.get(pluginId)!, migrations: { skip: false } };
    },
  });
}
