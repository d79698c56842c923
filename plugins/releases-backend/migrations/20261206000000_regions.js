// @ts-check

/**
 * Releases across regions: a parent release holds the waves and every region's part (`rollout`,
 * JSON); each region runs a release of its own, which names its parent and its region. The parent
 * holds the entity (`active_entity_ref`); a region's release holds `<entity>@<region>`.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('parent_id', 36).nullable().index();
    table.string('region', 63).nullable();
    table.text('rollout').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropColumn('rollout');
    table.dropColumn('region');
    table.dropColumn('parent_id');
  });
};
