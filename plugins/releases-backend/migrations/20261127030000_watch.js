// @ts-check

/**
 * When the post-release watch of a release began: after its last step the release watches the
 * service against its own history for the plan's `watchSeconds` before it succeeds.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('watch_started_at', 30).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('watch_started_at');
  });
};
