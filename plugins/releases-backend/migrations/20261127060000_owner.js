// @ts-check

/**
 * The owner of a release's entity when it was requested (a group ref from the catalog): team
 * overviews, the org view's owner filter and notifications count releases by it. The predicted
 * risk as a number, for the org view's risk filter.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('owner_ref', 255).nullable();
    table.float('risk_probability').nullable();
    table.index(['owner_ref', 'created_at'], 'releases_owner_created_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropIndex(['owner_ref', 'created_at'], 'releases_owner_created_idx');
    table.dropColumn('owner_ref');
    table.dropColumn('risk_probability');
  });
};
