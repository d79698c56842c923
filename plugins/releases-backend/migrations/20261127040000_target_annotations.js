// @ts-check

/**
 * The entity's `release-pilot.io/*` annotations when the release was requested: the per-entity
 * settings of its target (HAProxy backend, Prometheus selectors, ...), frozen for the release.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.text('target_annotations').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('target_annotations');
  });
};
