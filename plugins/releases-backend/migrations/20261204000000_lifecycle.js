// @ts-check

/**
 * The release's lifecycle around its steps: how versions get onto the target's sides (deploy mode),
 * the deployer operation under way, each side's version as read back, the version before the release
 * (what a rollback restores) and the recovery after a rollback. One JSON column, read with the row.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.text('lifecycle').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('lifecycle');
  });
};
