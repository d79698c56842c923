// @ts-check

/**
 * The notifications outbox: the messages a release's timeline records produce are stored in the
 * same transaction as the records, and deleted once delivered. A backend that dies between the two
 * leaves them here, and any replica delivers them after `attempt_after`.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('release_outbox', table => {
    table.string('id', 36).primary();
    table.string('release_id', 36).notNullable();
    table.string('owner_ref').nullable();
    table.text('message').notNullable();
    table.string('attempt_after', 30).notNullable().index();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('release_outbox');
};
