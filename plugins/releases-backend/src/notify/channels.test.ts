import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { Release } from '@release-pilot/plugin-releases-common';
import { ChannelDelivery, channelRequest, readNotificationsConfig } from './channels';
import { messageFor } from './messages';

const release = {
  id: 'r1',
  entityRef: 'component:default/checkout',
  version: '2.0.0',
  reason: 'Error rate 3.1% vs 0.2% baseline',
} as Release;

const slack = { name: 's', type: 'slack', webhookUrl: 'http://hooks/s', minSeverity: 'high' } as const;
const pager = { name: 'p', type: 'pagerduty', routingKey: 'KEY', url: 'http://pd/enqueue' } as const;
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
    expect(channelRequest(slack, rolledBack, context)?.url).toBe('http://hooks/s');
    expect(channelRequest(slack, succeeded, context)).toBeUndefined();
    expect(channelRequest({ ...slack, minSeverity: 'low' }, started, context)).toBeDefined();
  });

  it('PagerDuty triggers on a rollback and resolves the same incident on the next success, only when one is open; ignores the rest', () => {
    const trigger = channelRequest(pager, rolledBack, context)!.body as any;
    expect(trigger).toMatchObject({ event_action: 'trigger', routing_key: 'KEY', dedup_key: 'release-pilot/component:default/checkout' });
    expect(trigger.payload).toMatchObject({ severity: 'critical', source: 'release-pilot', group: 'group:default/team-checkout' });
    expect(trigger.links[0].href).toBe('http://portal/catalog/default/component/checkout/releases');
    expect(channelRequest(pager, succeeded, context)).toBeUndefined();
    expect(channelRequest(pager, succeeded, { ...context, incidentOpen: true })!.body).toEqual({
      routing_key: 'KEY',
      event_action: 'resolve',
      dedup_key: 'release-pilot/component:default/checkout',
    });
    expect(channelRequest(pager, started, context)).toBeUndefined();
  });
});

describe('readNotificationsConfig', () => {
  it('validates channels with the key and the problem', () => {
    const read = (channels: any) => () => readNotificationsConfig(new ConfigReader({ releases: { notifications: { channels } } }));
    expect(read({ a: { type: 'slack' } })).toThrow(/releases\.notifications\.channels\.a\.webhookUrl/);
    expect(read({ a: { type: 'teams', webhookUrl: 'http://x' } })).toThrow(/releases\.notifications\.channels\.a\.type/);
    expect(read({ a: { type: 'pagerduty', routingKey: 'k' } })().channels.get('a')).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue' });
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
