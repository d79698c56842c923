// @ts-check

/**
 * Releases, their steps, an append-only timeline and the metric samples the charts and the judge read.
 * Times are ISO-8601 UTC strings so that they compare as text on every database.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('releases', table => {
    table.comment('One attempt to move an entity from one version to another');
    table.string('id', 36).primary();
    table.string('entity_ref', 500).notNullable().index();
    // Equal to entity_ref while the release is active, NULL after: the unique index allows one active release per entity.
    table.string('active_entity_ref', 500).nullable().unique();
    table.string('version', 128).notNullable();
    table.string('target', 100).notNullable();
    table.string('state', 20).notNullable().index();
    table.text('plan').notNullable();
    table.integer('current_step').notNullable();
    table.string('step_started_at', 30).nullable();
    table.float('canary_weight').notNullable();
    table.integer('step_canary_requests').notNullable();
    table.integer('consecutive_provider_errors').notNullable();
    table.integer('revision').notNullable();
    table.string('created_by', 500).notNullable();
    table.string('created_at', 30).notNullable().index();
    table.string('updated_at', 30).notNullable();
    table.string('finished_at', 30).nullable();
    table.text('reason').nullable();
    table.text('metadata').notNullable();
    table.text('latest_verdict').nullable();
    table.string('lease_owner', 100).nullable();
    table.string('lease_expires_at', 30).nullable();
  });

  await knex.schema.createTable('release_steps', table => {
    table.comment('When each step of a release started and ended');
    table.increments('id');
    table.string('release_id', 36).notNullable().references('id').inTable('releases').onDelete('CASCADE');
    table.integer('step_index').notNullable();
    table.float('weight').notNullable();
    table.string('started_at', 30).notNullable();
    table.string('ended_at', 30).nullable();
    table.index(['release_id']);
  });

  await knex.schema.createTable('release_events', table => {
    table.comment('Append-only timeline: who did what, when and why');
    table.increments('id');
    table.string('release_id', 36).notNullable().references('id').inTable('releases').onDelete('CASCADE');
    table.string('at', 30).notNullable();
    table.string('actor', 500).notNullable();
    table.string('type', 40).notNullable();
    table.text('message').notNullable();
    table.text('data').nullable();
    table.index(['release_id']);
  });

  await knex.schema.createTable('release_samples', table => {
    table.comment('Canary and baseline statistics per tick, with the verdict given at that tick');
    table.increments('id');
    table.string('release_id', 36).notNullable().references('id').inTable('releases').onDelete('CASCADE');
    table.string('at', 30).notNullable();
    table.integer('step_index').notNullable();
    table.float('canary_weight').notNullable();
    table.text('canary').notNullable();
    table.text('baseline').notNullable();
    table.text('verdict').nullable();
    table.index(['release_id', 'at']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('release_samples');
  await knex.schema.dropTable('release_events');
  await knex.schema.dropTable('release_steps');
  await knex.schema.dropTable('releases');
};
