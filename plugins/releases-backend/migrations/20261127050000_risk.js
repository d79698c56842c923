// @ts-check

/**
 * Release risk: the assessment stored with each release (its features train the model), manual
 * gates of plans, the trained models, and imported history for a cold start.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.text('risk').nullable();
    table.integer('gate_step').nullable();
    table.integer('approved_step').nullable();
  });
  await knex.schema.createTable('risk_models', table => {
    table.increments('id');
    table.string('trained_at', 30).notNullable();
    table.integer('rows').notNullable();
    table.text('validation').nullable();
    table.text('model', 'longtext').notNullable();
  });
  await knex.schema.createTable('risk_history', table => {
    table.increments('id');
    table.string('entity_ref', 255).notNullable();
    table.string('author', 255).nullable();
    table.string('at', 30).notNullable();
    table.text('features').notNullable();
    table.integer('outcome').notNullable();
    table.index(['at']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('risk_history');
  await knex.schema.dropTable('risk_models');
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('risk');
    table.dropColumn('gate_step');
    table.dropColumn('approved_step');
  });
};
