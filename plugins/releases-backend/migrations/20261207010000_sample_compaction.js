// @ts-check

/**
 * Sample retention: when a release's samples were compacted (merged into buckets of
 * `releases.retention.sampleBucketSeconds`) after it ended; and an index to find those still due.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('releases', table => {
    table.string('samples_compacted_at', 30).nullable();
    table.index(['finished_at'], 'releases_finished_at_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('releases', table => {
    table.dropIndex(['finished_at'], 'releases_finished_at_idx');
    table.dropColumn('samples_compacted_at');
  });
};
