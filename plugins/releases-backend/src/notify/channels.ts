import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { parseConfigBlock } from '@release-pilot/plugin-releases-node';
import { z } from 'zod';
import { ReleaseMessage, SEVERITIES, Severity } from './messages';

const severitySchema = z.enum(SEVERITIES as [Severity, ...Severity[]]);

const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('slack'),
    /** The incoming webhook URL (a secret: keep it in config, e.g. `${SLACK_CHECKOUT_WEBHOOK}`). */
    webhookUrl: z.url({ protocol: /^https?$/ }),
    /** The quietest message the channel hears. Default `high`. */
    minSeverity: severitySchema.default('high'),
  }),
  z.strictObject({
    type: z.literal('pagerduty'),
    /** The Events API v2 integration (routing) key. */
    routingKey: z.string().min(1),
    /** The Events API v2 endpoint. Default https://events.pagerduty.com/v2/enqueue. */
    url: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com/v2/enqueue'),
  }),
]);

/** One configured escalation channel (`releases.notifications.channels.<name>`). */
export type ChannelConfig = z.output<typeof channelSchema> & { name: string };

/** `releases.notifications`: whether Backstage notifications are sent, the channels, and retries. */
export interface NotificationsConfig {
  enabled: boolean;
  channels: Map<string, ChannelConfig>;
  retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
}

const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(6),
  initialDelaySeconds: z.number().min(0).max(60).default(1),
  maxDelaySeconds: z.number().min(0).max(3600).default(60),
});

/** Reads and validates `releases.notifications` (throws with the key and the fix). */
export function readNotificationsConfig(config: Config): NotificationsConfig {
  const block = config.getOptionalConfig('releases.notifications');
  const channels = new Map<string, ChannelConfig>();
  const channelsBlock = block?.getOptionalConfig('channels');
  for (const name of channelsBlock?.keys() ?? []) {
    const parsed = parseConfigBlock(channelSchema, channelsBlock!.getConfig(name), `releases.notifications.channels.${name}`);
    channels.set(name, { ...parsed, name });
  }
  const retryBlock = block?.getOptionalConfig('retry');
  const retry = retryBlock
    ? parseConfigBlock(retrySchema, retryBlock, 'releases.notifications.retry')
    : retrySchema.parse({});
  return {
    enabled: block?.getOptionalBoolean('enabled') ?? true,
    channels,
    retry: {
      attempts: retry.attempts,
      initialDelayMs: retry.initialDelaySeconds * 1000,
      maxDelayMs: retry.maxDelaySeconds * 1000,
    },
  };
}

/** An HTTP request to a channel. */
export interface ChannelRequest {
  url: string;
  body: unknown;
}

const PAGERDUTY_SEVERITY: Record<Severity, string> = {
  critical: 'critical',
  high: 'error',
  normal: 'warning',
  low: 'info',
};

/** The PagerDuty incident of an entity: one open incident per service, resolved by its next success. */
export function pagerDutyDedupKey(entityRef: string): string {
  return `release-pilot/${entityRef}`;
}

/**
 * The request a channel gets for a message, or undefined when the channel does not care:
 * Slack hears messages at or above its `minSeverity`; PagerDuty triggers on a rollback (or a
 * failed one) and resolves on the entity's next success, when the release before it had
 * triggered (`incidentOpen`).
 */
export function channelRequest(
  channel: ChannelConfig,
  message: ReleaseMessage,
  context: { appBaseUrl: string; owner?: string; incidentOpen?: boolean },
): ChannelRequest | undefined {
  const href = `${context.appBaseUrl.replace(/\/$/, '')}${message.link}`;
  if (channel.type === 'slack') {
    if (SEVERITIES.indexOf(message.severity) > SEVERITIES.indexOf(channel.minSeverity)) return undefined;
    const icon = { critical: ':rotating_light:', high: ':warning:', normal: ':white_check_mark:', low: ':information_source:' }[message.severity];
    return {
      url: channel.webhookUrl,
      body: {
        text: `${icon} ${message.title}`,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${message.title}*\n${message.description}` } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `<${href}|Open the Releases tab> · ${message.entityRef} · severity ${message.severity}` }] },
        ],
      },
    };
  }
  const dedupKey = pagerDutyDedupKey(message.entityRef);
  if (message.kind === 'succeeded') {
    if (!context.incidentOpen) return undefined;
    return { url: channel.url, body: { routing_key: channel.routingKey, event_action: 'resolve', dedup_key: dedupKey } };
  }
  if (message.kind !== 'rolled_back' && message.kind !== 'failed') return undefined;
  return {
    url: channel.url,
    body: {
      routing_key: channel.routingKey,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: {
        summary: `${message.title}. ${message.description}`.slice(0, 1024),
        source: 'release-pilot',
        severity: PAGERDUTY_SEVERITY[message.severity],
        component: message.entityRef,
        group: context.owner,
        class: message.kind === 'failed' ? 'release rollback failed' : 'release rolled back',
        custom_details: { entityRef: message.entityRef, version: message.version, releaseId: message.releaseId, reason: message.description },
      },
      links: [{ href, text: 'Releases tab in Backstage' }],
      client: 'Release Pilot',
      client_url: href,
    },
  };
}

/** Whether a failed delivery is worth another attempt: network errors, 408, 429 and 5xx. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** The outcome of one attempt to deliver a channel request. */
export type ChannelAttempt = 'sent' | 'rejected' | 'failed';

/**
 * Delivers channel requests with exponential backoff: `attempt` makes one try (the notifier's
 * outbox schedules the next), `send` retries in the background on its own (messages that are not
 * stored, e.g. a blocked release). A delivery never throws into the release path: the release goes
 * on whatever a channel does; failures are logged.
 */
export class ChannelDelivery {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      logger: LoggerService;
      retry: NotificationsConfig['retry'];
      fetch?: typeof fetch;
      sleep?: (ms: number) => Promise<void>;
    },
  ) {}

  /** Sends in the background; `idle()` waits for every delivery in flight. */
  send(channel: string, request: ChannelRequest): void {
    const delivery = this.deliver(channel, request).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** The wait before attempt `attempt + 1`, or undefined when `attempt` was the last one. */
  delayAfter(attempt: number): number | undefined {
    const { retry } = this.deps;
    if (attempt >= retry.attempts) return undefined;
    return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  }

  /**
   * One try: `sent`, `rejected` (a 4xx other than 408 and 429, which no retry fixes) or `failed`
   * (network errors, 408, 429 and 5xx, worth another try).
   */
  async attempt(channel: string, request: ChannelRequest, attempt = 1): Promise<ChannelAttempt> {
    const { logger } = this.deps;
    const doFetch = this.deps.fetch ?? fetch;
    let status: number | undefined;
    let problem: string;
    try {
      const response = await doFetch(request.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return 'sent';
      status = response.status;
      problem = `HTTP ${status} ${(await response.text().catch(() => '')).slice(0, 200)}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    const delay = retryable(status) ? this.delayAfter(attempt) : undefined;
    if (delay === undefined) {
      logger.warn(`Channel ${channel}: giving up after ${attempt} attempt(s): ${problem}`);
      return retryable(status) ? 'failed' : 'rejected';
    }
    logger.info(`Channel ${channel}: attempt ${attempt} failed (${problem}); retrying in ${delay} ms`);
    return 'failed';
  }

  private async deliver(channel: string, request: ChannelRequest): Promise<void> {
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      if ((await this.attempt(channel, request, attempt)) !== 'failed') return;
      const delay = this.delayAfter(attempt);
      if (delay === undefined) return;
      await sleep(delay);
    }
  }
}
