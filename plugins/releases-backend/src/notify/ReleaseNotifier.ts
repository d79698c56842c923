import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { RELATION_OWNED_BY } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import {
  Release,
  RELEASE_PILOT_CHANNELS_ANNOTATION,
  TimelineEventType,
} from '@release-pilot/plugin-releases-common';
import { ChannelDelivery, channelRequest, NotificationsConfig } from './channels';
import { blockedMessage, messageFor, ReleaseMessage } from './messages';
import { OutboxEntry, ReleasesStore } from '../database/ReleasesStore';
import type { ReleaseOutbox } from '../driver/ReleaseDriver';

/**
 * Tells a release's owners what happened: a Backstage notification to every member of the owning
 * team (one per event, grouped per release by its scope), and the escalation channels the team
 * names on its Group entity. Everything runs in the background: a slow or failing notification
 * backend or channel never delays or fails a release. As the driver's outbox, its messages are
 * stored with the release and deleted once the notifications backend took them.
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
    const rollbackBy = records.find(r => r.type === 'rollback_started')?.actor;
    return records
      .map(record => messageFor(release, record, rollbackBy))
      .filter((message): message is ReleaseMessage => !!message)
      .map(message => ({ message, owner: release.owner }));
  }

  /** Sends stored messages; the ids of those the notifications backend took (channels retry on their own). */
  async deliver(entries: OutboxEntry[]): Promise<string[]> {
    const work = Promise.allSettled(entries.map(e => this.publish(e.message as ReleaseMessage, e.owner)));
    this.track(work.then(() => undefined));
    const results = await work;
    return entries.filter((_, i) => results[i].status === 'fulfilled').map(e => e.id);
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

  private async publish(message: ReleaseMessage, knownOwner: string | undefined): Promise<void> {
    const { notifications, config } = this.deps;
    const owner = knownOwner ?? (await this.ownerOf(message.entityRef));
    const sends: Promise<unknown>[] = [];
    if (notifications && config.enabled) {
      // A failed send rejects: the message stays in the outbox and is sent again later.
      sends.push(
        notifications
          .send({
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
          })
          .catch(error => {
            this.deps.logger.warn(`Sending the notification '${message.title}' failed: ${(error as Error).message}`);
            throw error;
          }),
      );
    }
    if (owner) {
      sends.push(this.escalate(message, owner).catch(error => this.deps.logger.warn(`Escalating '${message.title}' failed: ${(error as Error).message}`)));
    }
    await Promise.all(sends);
  }

  /** The channels the owning group names in its annotation. */
  private async escalate(message: ReleaseMessage, owner: string) {
    const { catalog, auth, config, delivery, logger, appBaseUrl } = this.deps;
    if (config.channels.size === 0) return;
    const incidentOpen = message.kind === 'succeeded' ? await this.incidentOpen(message) : false;
    const group = await catalog.getEntityByRef(owner, { credentials: await auth.getOwnServiceCredentials() });
    const names = (group?.metadata.annotations?.[RELEASE_PILOT_CHANNELS_ANNOTATION] ?? '')
      .split(',')
      .map(name => name.trim())
      .filter(Boolean);
    for (const name of names) {
      const channel = config.channels.get(name);
      if (!channel) {
        logger.warn(
          `${owner} annotation ${RELEASE_PILOT_CHANNELS_ANNOTATION} names channel '${name}', which is not under releases.notifications.channels; known: ${[...config.channels.keys()].join(', ')}`,
        );
        continue;
      }
      const request = channelRequest(channel, message, { appBaseUrl, owner, incidentOpen });
      if (request) delivery.send(name, request);
    }
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
