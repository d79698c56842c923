import { parseEntityRef } from '@backstage/catalog-model';
import { Release, TimelineEventType } from '@release-pilot/plugin-releases-common';

/** How loud a release event is; the same four levels as Backstage notifications. */
export type Severity = 'critical' | 'high' | 'normal' | 'low';

/** Louder first: a channel with `minSeverity: high` hears `critical` and `high`. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'normal', 'low'];

/** What the owners hear about one release event. */
export interface ReleaseMessage {
  /** What happened, for channels that act on it (PagerDuty triggers on `rolled_back`, resolves on `succeeded`). */
  kind: 'started' | 'paused' | 'degraded' | 'rolled_back' | 'failed' | 'blocked' | 'succeeded';
  severity: Severity;
  title: string;
  description: string;
  /** The entity's Releases tab, relative to the app's base URL. */
  link: string;
  entityRef: string;
  releaseId?: string;
  version: string;
}

/** The actors that are Release Pilot itself (not a person). */
const AUTOMATIC_ACTORS = new Set(['release-pilot', 'judge', 'watch']);

export function isAutomatic(actor: string): boolean {
  return AUTOMATIC_ACTORS.has(actor);
}

/** The entity's Releases tab, e.g. `/catalog/default/component/checkout/releases`. */
export function releasesTabLink(entityRef: string): string {
  const { kind, namespace, name } = parseEntityRef(entityRef);
  return `/catalog/${encodeURIComponent(namespace)}/${encodeURIComponent(kind.toLocaleLowerCase('en-US'))}/${encodeURIComponent(name)}/releases`;
}

function nameOf(entityRef: string): string {
  return parseEntityRef(entityRef).name;
}

/**
 * The message for one timeline record of a release, or undefined for records nobody needs to hear
 * about (steps advancing, samples). `rollbackBy` is who started the rollback the record finishes.
 */
export function messageFor(
  release: Release,
  record: { type: TimelineEventType; actor: string; message: string; data?: Record<string, unknown> },
  rollbackBy?: string,
): ReleaseMessage | undefined {
  const base = {
    entityRef: release.entityRef,
    releaseId: release.id,
    version: release.version,
    link: releasesTabLink(release.entityRef),
  };
  const what = `${nameOf(release.entityRef)} ${release.version}`;
  switch (record.type) {
    case 'started':
      return { ...base, kind: 'started', severity: 'low', title: `Release of ${what} started`, description: record.message };
    case 'paused': {
      const automatic = isAutomatic(record.actor);
      return {
        ...base,
        kind: 'paused',
        severity: automatic ? 'high' : 'normal',
        title: automatic ? `Release of ${what} paused: it needs a decision` : `Release of ${what} paused by ${record.actor}`,
        description: record.message,
      };
    }
    case 'watch_alert':
      return { ...base, kind: 'degraded', severity: 'high', title: `${what} looks degraded after its release`, description: record.message };
    case 'rolled_back': {
      const by = rollbackBy && !isAutomatic(rollbackBy) ? `by ${rollbackBy}` : 'automatically';
      return {
        ...base,
        kind: 'rolled_back',
        severity: 'critical',
        title: `Release of ${what} rolled back ${by}`,
        description: `${release.reason ? `Reason: ${release.reason}` : record.message}${recoveryText(release)}`,
      };
    }
    case 'rollback_pending':
      return {
        ...base,
        kind: 'failed',
        severity: 'critical',
        title: `Rollback of ${what} pending: the traffic router is unreachable`,
        description: `Retrying until it succeeds. Router error: ${release.routerError ?? record.message}. Rollback reason: ${release.reason ?? 'unknown'}`,
      };
    case 'provider_error':
      // The first error of an outage (metrics or router): the release holds its weight and says so once.
      if (release.state === 'rolling_back' || release.consecutiveProviderErrors !== 1) return undefined;
      return {
        ...base,
        kind: 'degraded',
        severity: 'high',
        title: `Release of ${what} is holding at ${release.canaryWeight}%: its metrics are unavailable`,
        description: record.message,
      };
    case 'failed':
      return { ...base, kind: 'failed', severity: 'critical', title: `Rollback of ${what} failed: it needs a person`, description: release.reason ?? record.message };
    case 'deploy_error':
      // Once, when a promotion or a restore runs past its deploy timeout (a canary deploy that does
      // is rolled back, and that is the message).
      if (!record.data?.overdue) return undefined;
      return {
        ...base,
        kind: 'degraded',
        severity: 'high',
        title: `${release.state === 'promoting' ? 'Promotion' : 'Restore'} of ${what} is overdue: it may need a person`,
        description: record.message,
      };
    case 'succeeded':
      return { ...base, kind: 'succeeded', severity: 'normal', title: `Release of ${what} succeeded`, description: record.message };
    default:
      return undefined;
  }
}

/** The message for a release the risk gate stopped before it was stored. */
export function blockedMessage(entityRef: string, version: string, reason: string): ReleaseMessage {
  return {
    kind: 'blocked',
    severity: 'high',
    title: `Release of ${nameOf(entityRef)} ${version} blocked by its predicted risk`,
    description: reason,
    link: releasesTabLink(entityRef),
    entityRef,
    version,
  };
}

/** What the rollback's recovery check found, for the rollback's message ("" where nothing was measured). */
function recoveryText(release: Release): string {
  const recovery = release.recovery;
  if (recovery?.status === 'recovered') return ` Recovered ${(recovery.seconds ?? 0).toFixed(1)} s after the rollback decision: ${recovery.summary}.`;
  if (recovery?.status === 'not_recovered') return ` Not back at its pre-release level after the rollback: ${recovery.summary}.`;
  if (recovery?.status === 'unverified') return ` Recovery not verified: ${recovery.summary}.`;
  return '';
}
