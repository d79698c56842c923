// @ts-check

/**
 * Replicas that share the load: each backend replica says it is alive and until when it holds its
 * releases (`release_replicas`, one row renewed per replica instead of one per release), so each
 * leases about its share of the active releases; and an index for the lease queries.
 * `releases.lease_expires_at` is no longer read.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('release_replicas', table => {
    table.string('id', 100).primary();
    table.string('seen_at', 30).notNullable();
    table.string('expires_at', 30).notNullable().index();
  });
  await knex.schema.alterTable('releases', table => {
    table.index(['lease_owner'], 'releases_lease_owner_idx');
  });
  // A release's judge state (about 14 KB of JSON) is written every tick: lz4 compresses it for a
  // fraction of the CPU time of PostgreSQL's default (pglz). Builds without lz4 keep the default.
  if (String(knex.client.config.client).startsWith('pg')) {
    // In a savepoint: a failed statement must not abort the migration's transaction.
    await knex
      .transaction(tx => tx.raw('alter table releases alter column judge_state set compression lz4, alter column latest_verdict set compression lz4'))
      .catch(() => undefined);
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropIndex(['lease_owner'], 'releases_lease_owner_idx');
  });
  await knex.schema.dropTable('release_replicas');
};
