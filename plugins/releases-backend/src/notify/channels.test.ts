import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { Release } from '@release-pilot/plugin-releases-common';
import { ChannelConfig, ChannelDelivery, channelRequest, readNotificationsConfig, withSecrets } from './channels';
import { messageFor } from './messages';

const release = {
  id: 'r1',
  entityRef: 'component:default/checkout',
  version: '2.0.0',
  reason: 'Error rate 3.1% vs 0.2% baseline',
} as Release;

const slack = { name: 's', type: 'slack', webhookUrl: 'http://hooks/s', minSeverity: 'high' } as const;
const pager = { name: 'p', type: 'pagerduty', routingKey: 'KEY', url: 'http://pd/enqueue' } as const;
const genie = { name: 'o', type: 'opsgenie', apiKey: 'GENIE-SECRET', url: 'http://og.test/', team: 'checkout-oncall' } as const;
const context = { appBaseUrl: 'http://portal/', owner: 'group:default/team-checkout' };

describe('messages', () => {
  it('says who rolled back: the judge (automatically) or a person, with the reason and values', () => {
    const automatic = messageFor(release, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'judge');
    expect(automatic).toMatchObject({
      severity: 'critical',
      title: 'Release of checkout 2.0.0 rolled back automatically',
      description: 'Reason: Error rate 3.1% vs 0.2% baseline',
    });
    expect(messageFor(release, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'user:default/alice')?.title).toBe(
      'Release of checkout 2.0.0 rolled back by user:default/alice',
    );
  });

  it('grades the events: started low, paused by the judge high, by a person normal, degraded high, success normal; steps say nothing', () => {
    const severity = (type: any, actor = 'release-pilot') => messageFor(release, { type, actor, message: 'm' })?.severity;
    expect(severity('started')).toBe('low');
    expect(severity('paused', 'judge')).toBe('high');
    expect(severity('paused', 'user:default/bob')).toBe('normal');
    expect(severity('watch_alert', 'watch')).toBe('high');
    expect(severity('failed')).toBe('critical');
    expect(severity('succeeded')).toBe('normal');
    expect(severity('step_advanced')).toBeUndefined();
    expect(severity('rollback_pending')).toBe('critical');
    expect(severity('rollback_started')).toBeUndefined();
  });
});

it('says once that metrics are unavailable, on the first provider error of an outage only', () => {
  const holding = { ...release, state: 'running', canaryWeight: 10 } as Release;
  const record = { type: 'provider_error' as const, actor: 'release-pilot', message: 'Provider error 1 of 10: timeout' };
  expect(messageFor({ ...holding, consecutiveProviderErrors: 1 }, record)).toMatchObject({
    severity: 'high',
    title: 'Release of checkout 2.0.0 is holding at 10%: its metrics are unavailable',
  });
  expect(messageFor({ ...holding, consecutiveProviderErrors: 2 }, record)).toBeUndefined();
});

it('says once that a promotion is overdue, and nothing for a deploy error being retried', () => {
  const promoting = { ...release, state: 'promoting', canaryWeight: 100 } as Release;
  const overdue = { type: 'deploy_error' as const, actor: 'release-pilot', message: 'Deploying 2.0.0 to the stable side did not finish within 600 s; still trying', data: { overdue: true } };
  expect(messageFor(promoting, overdue)).toMatchObject({ severity: 'high', title: 'Promotion of checkout 2.0.0 is overdue: it may need a person' });
  expect(messageFor(promoting, { ...overdue, data: { error: 'timeout' } })).toBeUndefined();
});

describe('channel payloads', () => {
  const rolledBack = messageFor(release, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'judge')!;
  const succeeded = messageFor(release, { type: 'succeeded', actor: 'release-pilot', message: 'Release of 2.0.0 succeeded' })!;
  const started = messageFor(release, { type: 'started', actor: 'release-pilot', message: 'Started' })!;

  it('Slack hears what is at least as loud as its minSeverity', () => {
    expect(channelRequest(slack, rolledBack, context)?.body).toBeDefined();
    expect(channelRequest(slack, succeeded, context)).toBeUndefined();
    expect(channelRequest({ ...slack, minSeverity: 'low' }, started, context)).toBeDefined();
  });

  it('PagerDuty triggers on a rollback and resolves the same incident on the next success, only when one is open; ignores the rest', () => {
    const trigger = withSecrets(pager, channelRequest(pager, rolledBack, context)!).body as any;
    expect(trigger).toMatchObject({ event_action: 'trigger', routing_key: 'KEY', dedup_key: 'release-pilot/component:default/checkout' });
    expect(trigger.payload).toMatchObject({ severity: 'critical', source: 'release-pilot', group: 'group:default/team-checkout' });
    expect(trigger.links[0].href).toBe('http://portal/catalog/default/component/checkout/releases');
    expect(channelRequest(pager, succeeded, context)).toBeUndefined();
    expect(withSecrets(pager, channelRequest(pager, succeeded, { ...context, incidentOpen: true })!).body).toEqual({
      routing_key: 'KEY',
      event_action: 'resolve',
      dedup_key: 'release-pilot/component:default/checkout',
    });
    expect(channelRequest(pager, started, context)).toBeUndefined();
  });

  it("stores no channel's secret: Slack's webhook URL, PagerDuty's routing key and Opsgenie's API key are added from config when sent", () => {
    for (const channel of [slack, pager, genie]) {
      const stored = JSON.stringify(channelRequest(channel, rolledBack, context));
      for (const secret of ['http://hooks/s', 'KEY', 'GENIE-SECRET']) expect(stored).not.toContain(secret);
    }
    expect(withSecrets(slack, channelRequest(slack, rolledBack, context)!).url).toBe('http://hooks/s');
    // A channel no longer in config: nothing to send a Slack message to.
    expect(withSecrets(undefined, channelRequest(slack, rolledBack, context)!).url).toBeUndefined();
  });
});

describe('Opsgenie', () => {
  const rolledBack = messageFor(release, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'judge')!;
  const failed = messageFor(release, { type: 'failed', actor: 'release-pilot', message: 'The rollback failed: router unreachable' })!;
  const succeeded = messageFor(release, { type: 'succeeded', actor: 'release-pilot', message: 'Release of 2.0.0 succeeded' })!;
  const paused = messageFor(release, { type: 'paused', actor: 'release-pilot', message: 'Paused by the judge' }, 'judge')!;

  it("creates the entity's alert on a rollback (the Alert API v2 request as documented), and closes that alert by its alias on the next success only when one is open", () => {
    expect(channelRequest(genie, rolledBack, context)).toEqual({
      url: 'http://og.test/v2/alerts',
      body: {
        message: 'Release of checkout 2.0.0 rolled back automatically',
        alias: 'release-pilot:component:default:checkout',
        description: 'Reason: Error rate 3.1% vs 0.2% baseline\n\nReleases tab: http://portal/catalog/default/component/checkout/releases',
        responders: [{ type: 'team', name: 'checkout-oncall' }],
        tags: ['release-pilot', 'rolled-back'],
        details: { entityRef: 'component:default/checkout', version: '2.0.0', releaseId: 'r1', owner: 'group:default/team-checkout', link: 'http://portal/catalog/default/component/checkout/releases' },
        entity: 'component:default/checkout',
        source: 'Release Pilot',
        priority: 'P1',
      },
    });
    expect((channelRequest(genie, failed, context)!.body as any).tags).toEqual(['release-pilot', 'rollback-failed']);
    expect(channelRequest(genie, succeeded, context)).toBeUndefined();
    expect(channelRequest(genie, succeeded, { ...context, incidentOpen: true })).toEqual({
      url: 'http://og.test/v2/alerts/release-pilot%3Acomponent%3Adefault%3Acheckout/close?identifierType=alias',
      body: { source: 'Release Pilot', user: 'Release Pilot', note: 'Release of checkout 2.0.0 succeeded. http://portal/catalog/default/component/checkout/releases' },
    });
    expect(channelRequest(genie, paused, context)).toBeUndefined();
  });

  it('de-duplicates by entity: one alias per entity, the same for every release of it, different for another entity', () => {
    const next = messageFor({ ...release, id: 'r2', version: '2.0.1' }, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'judge')!;
    const other = messageFor({ ...release, entityRef: 'component:payments/checkout' }, { type: 'rolled_back', actor: 'release-pilot', message: 'x' }, 'judge')!;
    const alias = (message: typeof rolledBack) => (channelRequest(genie, message, context)!.body as any).alias;
    expect(alias(next)).toBe(alias(rolledBack));
    expect(alias(other)).toBe('release-pilot:component:payments:checkout');
    const long = { ...rolledBack, title: 'x'.repeat(300) };
    expect((channelRequest(genie, long, context)!.body as any).message).toHaveLength(130);
  });

  it('sends the API key from config as `Authorization: GenieKey`, never in the stored request; a 429 is tried again, a 422 is not', async () => {
    const channels = new Map<string, ChannelConfig>([['checkout-opsgenie', genie]]);
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const statuses = [429, 202, 422];
    const delivery = new ChannelDelivery({
      logger: mockServices.logger.mock(),
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
      channels,
      fetch: (async (url: string, init: RequestInit) => {
        seen.push({ url, headers: init.headers as Record<string, string> });
        return new Response('{"result":"Request will be processed","took":0.1,"requestId":"x"}', { status: statuses.shift()! });
      }) as unknown as typeof fetch,
    });
    const request = channelRequest(genie, rolledBack, context)!;
    expect(JSON.stringify(request)).not.toContain('GENIE-SECRET');
    expect(await delivery.attempt('checkout-opsgenie', request, 1)).toBe('failed');
    expect(await delivery.attempt('checkout-opsgenie', request, 2)).toBe('sent');
    expect(await delivery.attempt('checkout-opsgenie', request, 1)).toBe('rejected');
    expect(seen[0].headers).toEqual({ 'Content-Type': 'application/json', Authorization: 'GenieKey GENIE-SECRET' });
    // Another channel's requests carry no key.
    await delivery.attempt('checkout-slack', { url: 'http://hooks/s', body: {} }, 1);
    expect(seen[3].headers).toEqual({ 'Content-Type': 'application/json' });
  });
});

describe('readNotificationsConfig', () => {
  it('validates channels with the key and the problem', () => {
    const read = (channels: any) => () => readNotificationsConfig(new ConfigReader({ releases: { notifications: { channels } } }));
    expect(read({ a: { type: 'slack' } })).toThrow(/releases\.notifications\.channels\.a\.webhookUrl/);
    expect(read({ a: { type: 'teams', webhookUrl: 'http://x' } })).toThrow(/releases\.notifications\.channels\.a\.type/);
    expect(read({ a: { type: 'pagerduty', routingKey: 'k' } })().channels.get('a')).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue' });
    expect(read({ a: { type: 'opsgenie', apiKey: 'k' } })().channels.get('a')).toMatchObject({ url: 'https://api.opsgenie.com' });
    expect(read({ a: { type: 'opsgenie' } })).toThrow(/releases\.notifications\.channels\.a\.apiKey/);
    expect(read({ a: { type: 'opsgenie', apiKey: 'k', url: 'ftp://x' } })).toThrow(/releases\.notifications\.channels\.a\.url/);
  });
});

describe('ChannelDelivery', () => {
  const setup = (statuses: Array<number | Error>) => {
    const calls: string[] = [];
    const sleeps: number[] = [];
    const fetch = jest.fn(async (url: string) => {
      calls.push(url);
      const next = statuses.shift() ?? 200;
      if (next instanceof Error) throw next;
      return new Response('r', { status: next });
    }) as unknown as typeof globalThis.fetch;
    const delivery = new ChannelDelivery({
      logger: mockServices.logger.mock(),
      retry: { attempts: 4, initialDelayMs: 100, maxDelayMs: 250 },
      fetch,
      sleep: async ms => {
        sleeps.push(ms);
      },
    });
    return { delivery, calls, sleeps };
  };

  it('retries network errors, 429 and 5xx with capped exponential backoff until it is delivered', async () => {
    const { delivery, calls, sleeps } = setup([new Error('ECONNREFUSED'), 503, 429, 200]);
    delivery.send('c', { url: 'http://x', body: {} });
    await delivery.idle();
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 250]);
  });

  it('gives up after the attempts, and at once on a 4xx it cannot fix; never throws', async () => {
    const failing = setup([503, 503, 503, 503, 503]);
    failing.delivery.send('c', { url: 'http://x', body: {} });
    await expect(failing.delivery.idle()).resolves.toBeUndefined();
    expect(failing.calls).toHaveLength(4);
    const rejected = setup([400]);
    rejected.delivery.send('c', { url: 'http://x', body: {} });
    await rejected.delivery.idle();
    expect(rejected.calls).toHaveLength(1);
  });
});
