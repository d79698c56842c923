// @ts-check

/**
 * The tick whose judge state `judge_state` holds: a tick that only measured writes the state every
 * `releases.database.judgeStateSeconds`, and a replica that reads an older one counts the samples
 * stored since then again. Rows from before hold their latest verdict's state (null here).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('judge_state_at', 30).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('judge_state_at');
  });
};
