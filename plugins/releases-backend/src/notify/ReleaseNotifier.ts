import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { RELATION_OWNED_BY } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import {
  Release,
  RELEASE_PILOT_CHANNELS_ANNOTATION,
  TimelineEventType,
} from '@release-pilot/plugin-releases-common';
import { ChannelDelivery, ChannelRequest, channelRequest, NotificationsConfig } from './channels';
import { blockedMessage, messageFor, ReleaseMessage } from './messages';
import { OutboxEntry, ReleasesStore } from '../database/ReleasesStore';
import type { OutboxDelivery, ReleaseOutbox } from '../driver/ReleaseDriver';

/** A stored call to one escalation channel, tried until it is sent or given up on. */
interface ChannelEntry {
  channel: string;
  request: ChannelRequest;
  /** The message's title, for the logs. */
  title: string;
  attempts: number;
}

/**
 * Tells a release's owners what happened: a Backstage notification to every member of the owning
 * team (one per event, grouped per release by its scope), and the escalation channels the team
 * names on its Group entity. Everything runs in the background: a slow or failing notification
 * backend or channel never delays or fails a release. As the driver's outbox, its messages are
 * stored with the release and deleted once the notifications backend took them; each channel call
 * they lead to is stored too, and deleted once sent or given up on.
 */
export class ReleaseNotifier implements ReleaseOutbox {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      notifications?: NotificationService;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      config: NotificationsConfig;
      delivery: ChannelDelivery;
      appBaseUrl: string;
      /** The entity's releases, to tell whether a success closes an incident a rollback opened. */
      store?: Pick<ReleasesStore, 'listReleases'>;
    },
  ) {}

  /** The messages of timeline records a release is about to store: each one that matters becomes one. */
  messagesFor(release: Release, records: ReadonlyArray<{ type: TimelineEventType; actor: string; message: string }>) {
    const rollbackBy = records.find(r => r.type === 'rollback_started')?.actor ?? release.rollbackActor;
    return records
      .map(record => messageFor(release, record, rollbackBy))
      .filter((message): message is ReleaseMessage => !!message)
      .map(message => ({ message, owner: release.owner }));
  }

  /**
   * One delivery round of stored entries. A message goes to the notifications backend; once it took
   * it, the message is done and leads to one new entry per escalation channel of the owning team,
   * so that each channel is tried, retried and given up on its own: a failing notifications backend
   * never posts to Slack twice, and a backend killed mid-retry leaves the channel call to another.
   */
  async deliver(entries: OutboxEntry[], now: Date): Promise<OutboxDelivery> {
    const result: OutboxDelivery = { done: [], retry: [], next: [] };
    await Promise.all(
      entries.map(async entry => {
        const stored = entry.message as ReleaseMessage | ChannelEntry;
        if ('channel' in stored) {
          const attempt = (stored.attempts ?? 0) + 1;
          const outcome = await this.deps.delivery.attempt(stored.channel, stored.request, attempt);
          const delay = outcome === 'failed' ? this.deps.delivery.delayAfter(attempt) : undefined;
          if (delay === undefined) result.done.push(entry.id);
          else result.retry.push({ id: entry.id, message: { ...stored, attempts: attempt }, attemptAfter: new Date(now.getTime() + delay).toISOString() });
          return;
        }
        try {
          await this.notify(stored);
          const owner = entry.owner ?? (await this.ownerOf(stored.entityRef));
          const channels = owner ? await this.channelsFor(stored, owner) : [];
          result.done.push(entry.id);
          for (const { channel, request } of channels) {
            const message: ChannelEntry = { channel, request, title: stored.title, attempts: 0 };
            result.next.push({ releaseId: entry.releaseId, owner, message });
          }
        } catch (error) {
          // Stays stored: any replica tries it again after its claim runs out.
          this.deps.logger.warn(`Notifying the owners of '${stored.title}' failed: ${(error as Error).message}`);
        }
      }),
    );
    return result;
  }

  /** A release the risk gate stopped. */
  releaseBlocked(entityRef: string, version: string, owner: string | undefined, reason: string): void {
    this.track(this.publish(blockedMessage(entityRef, version, reason), owner));
  }

  /** Waits for every message in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    await this.deps.delivery.idle();
  }

  private track(work: Promise<void>) {
    const tracked = work
      .catch(error => this.deps.logger.warn(`Notifying the owners failed: ${(error as Error).message}`))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** A message that is not stored (a blocked release): notified, and sent to the channels with in-memory retries. */
  private async publish(message: ReleaseMessage, knownOwner: string | undefined): Promise<void> {
    const owner = knownOwner ?? (await this.ownerOf(message.entityRef));
    await Promise.all([
      this.notify(message),
      owner
        ? this.channelsFor(message, owner).then(channels => channels.forEach(c => this.deps.delivery.send(c.channel, c.request)))
        : undefined,
    ]);
  }

  /** The Backstage notification to the owners; rejects when the notifications backend failed. */
  private async notify(message: ReleaseMessage): Promise<void> {
    const { notifications, config } = this.deps;
    if (!notifications || !config.enabled) return;
    await notifications.send({
      // The notifications backend routes an entity to its owner, and a group to its members.
      recipients: { type: 'entity', entityRef: message.entityRef },
      payload: {
        title: message.title,
        description: message.description,
        link: message.link,
        severity: message.severity,
        topic: 'releases',
        scope: message.releaseId ? `release:${message.releaseId}` : `release-blocked:${message.entityRef}`,
      },
    });
  }

  /** The requests for the channels the owning group names in its annotation, for those that care about the message. */
  private async channelsFor(message: ReleaseMessage, owner: string): Promise<Array<{ channel: string; request: ChannelRequest }>> {
    const { catalog, auth, config, logger, appBaseUrl } = this.deps;
    if (config.channels.size === 0) return [];
    const group = await catalog.getEntityByRef(owner, { credentials: await auth.getOwnServiceCredentials() });
    const names = (group?.metadata.annotations?.[RELEASE_PILOT_CHANNELS_ANNOTATION] ?? '')
      .split(',')
      .map(name => name.trim())
      .filter(Boolean);
    const incidentOpen = message.kind === 'succeeded' && names.length ? await this.incidentOpen(message) : false;
    const requests = [];
    for (const name of names) {
      const channel = config.channels.get(name);
      if (!channel) {
        logger.warn(
          `${owner} annotation ${RELEASE_PILOT_CHANNELS_ANNOTATION} names channel '${name}', which is not under releases.notifications.channels; known: ${[...config.channels.keys()].join(', ')}`,
        );
        continue;
      }
      const request = channelRequest(channel, message, { appBaseUrl, owner, incidentOpen });
      if (request) requests.push({ channel: name, request });
    }
    return requests;
  }

  /** Whether the entity's last finished release before this success was rolled back (or failed): its incident is open. */
  private async incidentOpen(message: ReleaseMessage): Promise<boolean> {
    const { store } = this.deps;
    if (!store || !message.releaseId) return true;
    const { items } = await store.listReleases({ entityRef: message.entityRef, active: false, limit: 20, offset: 0 });
    const index = items.findIndex(r => r.id === message.releaseId);
    if (index < 0) return true;
    const before = items[index + 1];
    return before?.state === 'rolled_back' || before?.state === 'failed';
  }

  private async ownerOf(entityRef: string): Promise<string | undefined> {
    const entity = await this.deps.catalog.getEntityByRef(entityRef, {
      credentials: await this.deps.auth.getOwnServiceCredentials(),
    });
    return entity?.relations?.find(r => r.type === RELATION_OWNED_BY)?.targetRef;
  }
}
