// @ts-check

/**
 * Fencing tokens for router calls. One counter for the whole database grows with every lease a
 * replica acquires and every person's action; each release keeps the token of its latest. A router
 * that can compare-and-set keeps the highest token it has seen per entity and refuses a lower one,
 * so a replica that was frozen past its lease cannot move traffic once another has acted.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('release_fencing', table => {
    table.integer('id').primary();
    table.bigInteger('token').notNullable();
  });
  await knex('release_fencing').insert({ id: 1, token: 0 });
  await knex.schema.alterTable('releases', table => {
    table.bigInteger('fencing_token').notNullable().defaultTo(0);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('fencing_token');
  });
  await knex.schema.dropTable('release_fencing');
};
