import { randomUUID } from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Release } from '@release-pilot/plugin-releases-common';
import { Clock, EngineResult } from '@release-pilot/plugin-releases-core';
import { OutboxEntry, ReleasesStore } from '../database/ReleasesStore';
import { errorText } from './errorText';

/**
 * Where the messages for a release's owners go (the notifier). They are computed from the timeline
 * records before the release is saved and stored with them in one transaction (an outbox), then
 * delivered; a replica that dies in between leaves them to the next tick of any replica.
 */
export interface ReleaseOutbox {
  /** The messages these records of `release` produce (JSON). */
  messagesFor(release: Release, records: EngineResult['records']): Array<{ message: unknown; owner?: string }>;
  /** Delivers entries once each. Must not throw. */
  deliver(entries: OutboxEntry[], now: Date): Promise<OutboxDelivery>;
}

/**
 * What one delivery round of outbox entries decided: the ids done with (delivered, or given up),
 * the entries to try again later (with their next message, e.g. an attempt count), and the new
 * entries they led to (e.g. one per escalation channel), which are stored and delivered at once.
 */
export interface OutboxDelivery {
  done: string[];
  retry: Array<{ id: string; message: unknown; attemptAfter: string }>;
  next: Array<{ releaseId: string; message: unknown; owner?: string }>;
}

/** How long the storing replica has to deliver an outbox entry before any replica may. */
const OUTBOX_GRACE_SECONDS = 30;

/**
 * The outbox's dispatcher: turns a decision's timeline records into stored messages, delivers them
 * after the decision is saved, and delivers what another replica stored but did not deliver.
 */
export class OutboxDispatcher {
  constructor(private readonly deps: { store: ReleasesStore; outbox?: ReleaseOutbox; clock: Clock; logger: LoggerService }) {}

  /** The outbox entries of these records, due for any replica after the grace period. */
  entriesFor(release: Release, records: EngineResult['records']): OutboxEntry[] {
    // A region's release is part of a release across regions, whose outcome is the one message.
    if (!records.length || !this.deps.outbox || release.parentId) return [];
    const attemptAfter = this.afterGrace();
    return this.deps.outbox
      .messagesFor(release, records)
      .map(({ message, owner }) => ({ id: randomUUID(), releaseId: release.id, owner, message, attemptAfter }));
  }

  /**
   * Delivers stored entries in the background; settles what the round decided, and delivers the
   * entries it led to (stored first, so a replica that dies meanwhile leaves them to another).
   */
  async deliver(entries: OutboxEntry[]): Promise<void> {
    const { outbox, store, logger, clock } = this.deps;
    if (!entries.length || !outbox) return;
    try {
      const { done, retry, next } = await outbox.deliver(entries, clock.now());
      const attemptAfter = this.afterGrace();
      const stored = next.map(entry => ({ ...entry, id: randomUUID(), attemptAfter }));
      await store.outbox.settle({ done, retry, next: stored });
      await this.deliver(stored);
    } catch (error) {
      logger.warn(`Delivering messages failed: ${errorText(error)}`);
    }
  }

  /** When an entry stored now becomes due for any replica. */
  private afterGrace(): string {
    return new Date(this.deps.clock.now().getTime() + OUTBOX_GRACE_SECONDS * 1000).toISOString();
  }

  /** Messages another replica stored but did not deliver (it died, or delivery failed): delivered now. */
  async redeliver(now: Date) {
    if (!this.deps.outbox) return;
    const due = await this.deps.store.outbox.claim(now, OUTBOX_GRACE_SECONDS * 2);
    if (due.length) this.deps.logger.info(`Delivering ${due.length} stored message(s) left undelivered`);
    await this.deliver(due);
  }
}
