// @ts-check

/**
 * The named analysis (from `releases.analyses`) that judges a release, chosen by the entity's
 * `release-pilot.io/analysis` annotation when the release is created.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('analysis', 100).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('analysis');
  });
};
