import { Release } from '@release-pilot/plugin-releases-common';
import { Knex } from 'knex';
import { ReleaseRow } from './rows';

/** What the risk model needs to know of an earlier release. */
export interface ReleaseHistoryEntry {
  entityRef: string;
  createdBy: string;
  author?: string;
  createdAt: string;
  state: Release['state'];
  features?: Record<string, number>;
}

/** A deployment from before Release Pilot, imported to train the risk model from day one. */
export interface ImportedDeployment {
  entityRef: string;
  author?: string;
  at: string;
  features: Record<string, number>;
  outcome: 0 | 1;
}

/**
 * What the risk model learns from and what it learned: earlier releases (read from `releases`),
 * deployments imported from before Release Pilot (`risk_history`) and the trained models
 * (`risk_models`, the last five kept).
 */
export class RiskStore {
  constructor(private readonly db: Knex) {}

  /** Releases requested since `since` (newest first, at most `limit`), for the risk model's history features. */
  async listReleaseHistory(since: string, limit = 20_000): Promise<ReleaseHistoryEntry[]> {
    const rows = await this.db<ReleaseRow>('releases')
      .whereNull('parent_id')
      .where('created_at', '>=', since)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .select('entity_ref', 'created_by', 'created_at', 'state', 'metadata', 'risk');
    return rows.map(row => {
      const metadata = JSON.parse(row.metadata ?? '{}');
      const risk = row.risk ? JSON.parse(row.risk) : undefined;
      return {
        entityRef: row.entity_ref,
        createdBy: row.created_by,
        author: typeof metadata.author === 'string' ? metadata.author : undefined,
        createdAt: row.created_at,
        state: row.state,
        features: risk?.features,
      };
    });
  }
  /** Historical deployments imported for a cold start (`release-pilot risk import`), oldest first. */
  async listImported(limit = 50_000): Promise<ImportedDeployment[]> {
    const rows = await this.db('risk_history').orderBy('at', 'desc').limit(limit);
    return rows
      .map(row => ({
        entityRef: row.entity_ref,
        author: row.author ?? undefined,
        at: row.at,
        features: JSON.parse(row.features),
        outcome: Number(row.outcome) as 0 | 1,
      }))
      .reverse();
  }
  async importDeployments(deployments: ImportedDeployment[]): Promise<void> {
    await this.db.transaction(async tx => {
      for (let i = 0; i < deployments.length; i += 500) {
        await tx('risk_history').insert(
          deployments.slice(i, i + 500).map(d => ({
            entity_ref: d.entityRef,
            author: d.author ?? null,
            at: d.at,
            features: JSON.stringify(d.features),
            outcome: d.outcome,
          })),
        );
      }
    });
  }
  async saveModel(model: { trainedAt: string; rows: number; validation?: unknown; model: unknown }): Promise<void> {
    await this.db('risk_models').insert({
      trained_at: model.trainedAt,
      rows: model.rows,
      validation: model.validation ? JSON.stringify(model.validation) : null,
      model: JSON.stringify(model.model),
    });
    // Keep the last five models.
    const keep = await this.db('risk_models').orderBy('id', 'desc').limit(5).pluck('id');
    await this.db('risk_models').whereNotIn('id', keep).delete();
  }
  async latestModel(): Promise<unknown | undefined> {
    const row = await this.db('risk_models').orderBy('id', 'desc').first('model');
    return row ? JSON.parse(row.model) : undefined;
  }
}
