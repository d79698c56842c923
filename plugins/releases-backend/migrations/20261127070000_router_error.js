// @ts-check

/**
 * A rollback the traffic router refused: since when, and its last error. The rollback is retried
 * with backoff until it succeeds; the Releases tab says "rollback pending: router unreachable since ...".
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('router_error_since', 30).nullable();
    table.text('router_error').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('router_error_since');
    table.dropColumn('router_error');
  });
};
