// @ts-check

/**
 * Until when a release's canary warms up (`plan.warmUpSeconds` after it started): its metrics are
 * stored and charted but not judged, and no step advances.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('warm_up_until', 30).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('warm_up_until');
  });
};
