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
  z.strictObject({
    type: z.literal('opsgenie'),
    /** An API integration's key (a secret: keep it in config, e.g. `${OPSGENIE_CHECKOUT_KEY}`); sent as `Authorization: GenieKey <key>`, never stored. */
    apiKey: z.string().min(1),
    /** The Alert API's address. Default https://api.opsgenie.com (EU accounts: https://api.eu.opsgenie.com). */
    url: z.url({ protocol: /^https?$/ }).default('https://api.opsgenie.com'),
    /** The Opsgenie team the alert goes to (its responders), else the integration's own. */
    team: z.string().min(1).max(100).optional(),
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

/**
 * An HTTP request to a channel, as the outbox stores it until it is sent: without the channel's
 * secrets (Slack's webhook URL, PagerDuty's routing key, Opsgenie's API key), which stay in config
 * and are added when it is sent (`withSecrets`).
 */
export interface ChannelRequest {
  /** Where it goes; none for Slack, whose webhook URL is the secret. */
  url?: string;
  body: unknown;
}

/** A stored request with its channel's secrets from config, ready to send. */
export function withSecrets(channel: ChannelConfig | undefined, request: ChannelRequest): { url?: string; body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (channel?.type === 'slack') return { url: channel.webhookUrl, body: request.body, headers };
  if (channel?.type === 'pagerduty') return { url: request.url, body: { routing_key: channel.routingKey, ...(request.body as object) }, headers };
  if (channel?.type === 'opsgenie') return { url: request.url, body: request.body, headers: { ...headers, Authorization: `GenieKey ${channel.apiKey}` } };
  return { ...request, headers };
}

const OPSGENIE_PRIORITY: Record<Severity, string> = { critical: 'P1', high: 'P2', normal: 'P3', low: 'P4' };

/**
 * The Opsgenie alert of an entity (its `alias`): one open alert per entity, which Opsgenie itself
 * de-duplicates (a second rollback while it is open counts on the same alert), closed by the
 * entity's next success. `kind:namespace/name` with `/` as `:` (no part of a ref holds `:` or `/`).
 */
export function opsgenieAlias(entityRef: string): string {
  return `release-pilot:${entityRef.replace('/', ':')}`;
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
      body: {
        text: `${icon} ${message.title}`,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${message.title}*\n${message.description}` } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `<${href}|Open the Releases tab> · ${message.entityRef} · severity ${message.severity}` }] },
        ],
      },
    };
  }
  if (channel.type === 'opsgenie') return opsgenieRequest(channel, message, context, href);
  const dedupKey = pagerDutyDedupKey(message.entityRef);
  if (message.kind === 'succeeded') {
    if (!context.incidentOpen) return undefined;
    return { url: channel.url, body: { event_action: 'resolve', dedup_key: dedupKey } };
  }
  if (message.kind !== 'rolled_back' && message.kind !== 'failed') return undefined;
  return {
    url: channel.url,
    body: {
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

/** Opsgenie's Alert API v2: create the entity's alert on a rollback (or a failed one), close it on the next success when one is open. */
function opsgenieRequest(
  channel: Extract<ChannelConfig, { type: 'opsgenie' }>,
  message: ReleaseMessage,
  context: { owner?: string; incidentOpen?: boolean },
  href: string,
): ChannelRequest | undefined {
  const base = channel.url.replace(/\/$/, '');
  const alias = opsgenieAlias(message.entityRef);
  if (message.kind === 'succeeded') {
    if (!context.incidentOpen) return undefined;
    return {
      url: `${base}/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      body: { source: 'Release Pilot', user: 'Release Pilot', note: `${message.title}. ${href}`.slice(0, 25_000) },
    };
  }
  if (message.kind !== 'rolled_back' && message.kind !== 'failed') return undefined;
  return {
    url: `${base}/v2/alerts`,
    body: {
      message: message.title.slice(0, 130),
      alias,
      description: `${message.description}\n\nReleases tab: ${href}`.slice(0, 15_000),
      ...(channel.team && { responders: [{ type: 'team', name: channel.team }] }),
      tags: ['release-pilot', message.kind === 'failed' ? 'rollback-failed' : 'rolled-back'],
      details: {
        entityRef: message.entityRef,
        ...(message.version && { version: message.version }),
        ...(message.releaseId && { releaseId: message.releaseId }),
        ...(context.owner && { owner: context.owner }),
        link: href,
      },
      entity: message.entityRef.slice(0, 512),
      source: 'Release Pilot',
      priority: OPSGENIE_PRIORITY[message.severity],
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
      /** The configured channels, whose secrets their requests get when they are sent (`withSecrets`). */
      channels?: NotificationsConfig['channels'];
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
    const ready = withSecrets(this.deps.channels?.get(channel), request);
    if (!ready.url) {
      logger.warn(`Channel ${channel}: not under releases.notifications.channels any more; its message is dropped`);
      return 'rejected';
    }
    let status: number | undefined;
    let problem: string;
    try {
      const response = await doFetch(ready.url, {
        method: 'POST',
        headers: ready.headers,
        body: JSON.stringify(ready.body),
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
