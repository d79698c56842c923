import { AuditorService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { EngineRecord } from '@release-pilot/plugin-releases-core';
import { isAutomatic } from '../notify/messages';

const HIGH = new Set(['rollback_started', 'rolled_back', 'failed']);

/**
 * Records each decision Release Pilot took on its own (start, advance, pause, rollback, success)
 * with Backstage's auditor, like the routes record a person's actions: actor, entity, release,
 * action and outcome.
 */
export async function auditDecisions(auditor: AuditorService, release: Release, records: EngineRecord[]): Promise<void> {
  for (const record of records) {
    if (!isAutomatic(record.actor) || record.type === 'provider_error') continue;
    const event = await auditor.createEvent({
      eventId: 'release-decision',
      // Medium at least: Backstage logs low audit events at debug level, and every decision should show.
      severityLevel: HIGH.has(record.type) ? 'high' : 'medium',
      meta: {
        actor: record.actor,
        entityRef: release.entityRef,
        releaseId: release.id,
        action: record.type,
        outcome: release.state,
        message: record.message,
      },
    });
    await event.success();
  }
}
