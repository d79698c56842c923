// @ts-check

/**
 * What the judge carries from tick to tick (the sequential tests' running likelihoods), so that a
 * restarted backend continues the same tests instead of starting them afresh.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.text('judge_state').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('judge_state');
  });
};
