import { createServiceFactory, coreServices, BackstageCredentials } from '@backstage/backend-plugin-api';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult, PolicyDecision } from '@backstage/plugin-permission-common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AddressInfo } from 'node:net';
import mcpActionsBackend from '@backstage/plugin-mcp-actions-backend';
import releasesBackend from '@release-pilot/plugin-releases-backend';
import simulatorModule from '@release-pilot/plugin-releases-backend-module-simulator';
import { ReleasePilotPolicy } from './modules/permissionPolicy';

jest.setTimeout(120_000);

/**
 * An AI agent drives a release through the MCP actions backend, as installed in this backend:
 * the official MCP TypeScript SDK client, over HTTP, against the real actions registry and service,
 * the releases plugin and the simulated fleet, with this backend's own permission policy.
 */

const OWNER = 'user:default/olivia';
const OTHER = 'user:default/mallory';
/** Who belongs to which team (what the sign-in resolver puts in the user's ownership claims). */
const CLAIMS: Record<string, string[]> = {
  [OWNER]: [OWNER, 'group:default/team-checkout'],
  [OTHER]: [OTHER, 'group:default/team-discovery'],
};

const checkout = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations: { 'release-pilot.io/target': 'simulator' } },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-checkout' }],
};

/**
 * The permission backend, as far as this test needs it: `ReleasePilotPolicy` decides, and its
 * conditional decision (the catalog's `IS_ENTITY_OWNER`) is applied to the entity as the catalog
 * applies it, by its `ownedBy` relations. Any other condition fails the test.
 */
const permissionsFromPolicy = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory() {
    const policy = new ReleasePilotPolicy([]);
    const entities = new Map([['component:default/checkout', checkout]]);
    const apply = (decision: PolicyDecision, resourceRef: string | undefined) => {
      if (decision.result !== AuthorizeResult.CONDITIONAL) return decision.result;
      const condition = decision.conditions as { rule?: string; params?: { claims?: string[] } };
      if (condition.rule !== 'IS_ENTITY_OWNER') throw new Error(`unexpected condition ${JSON.stringify(condition)}`);
      const owners = entities.get(resourceRef ?? '')?.relations.filter(r => r.type === 'ownedBy').map(r => r.targetRef) ?? [];
      return owners.some(owner => condition.params?.claims?.includes(owner)) ? AuthorizeResult.ALLOW : AuthorizeResult.DENY;
    };
    const decide = async (requests: any[], { credentials }: { credentials: BackstageCredentials }) => {
      const user = (credentials.principal as { userEntityRef?: string }).userEntityRef;
      const info = user ? { userEntityRef: user, ownershipEntityRefs: CLAIMS[user] ?? [user] } : undefined;
      return Promise.all(
        requests.map(async r => ({
          result: apply(await policy.handle({ permission: r.permission }, info && ({ info } as any)), r.resourceRef),
        })),
      );
    };
    return { authorize: decide, authorizeConditional: decide } as any;
  },
});

async function startBackend() {
  const { server } = await startTestBackend({
    features: [
      releasesBackend,
      simulatorModule,
      mcpActionsBackend,
      // The real scheduler: the release driver ticks every second, as in the running backend.
      schedulerServiceFactory,
      catalogServiceMock.factory({ entities: [checkout] }),
      permissionsFromPolicy,
      mockServices.rootConfig.factory({
        data: {
          backend: { actions: { pluginSources: ['releases'] } },
          releases: {
            engine: { tickSeconds: 1 },
            simulator: {},
            plans: { quick: { steps: [{ weight: 25, minDurationSeconds: 2 }, { weight: 100, minDurationSeconds: 2 }], watchSeconds: 0 } },
          },
        },
      }),
    ],
  });
  const { port } = server.address() as AddressInfo;
  return `http://localhost:${port}/api/mcp-actions/v1`;
}

async function connect(url: string, user: string): Promise<Client> {
  const client = new Client({ name: 'release-pilot-test-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: mockCredentials.user.header(user) } } }),
  );
  return client;
}

type ToolResult = { isError?: boolean; content: Array<{ type: string; text?: string }>; structuredContent?: any };

/** A tool's JSON answer (the MCP actions backend sends it as text), or its error text. */
function answerOf(result: ToolResult) {
  const text = result.content.map(c => c.text ?? '').join('');
  return result.isError ? { error: text } : JSON.parse(text);
}

describe('Release Pilot over MCP (the MCP actions backend, the official SDK client)', () => {
  let url: string;
  beforeAll(async () => {
    url = await startBackend();
  });

  it('lists the release tools with their input schemas and hints', async () => {
    const agent = await connect(url, OWNER);
    const { tools } = await agent.listTools();
    const names = tools.map(t => t.name).sort();
    // The MCP actions backend names each tool after its plugin.
    expect(names).toEqual(
      ['assess-release-risk', 'get-release', 'list-releases', 'pause-release', 'promote-release', 'resume-release', 'rollback-release', 'start-release'].map(n => `releases.${n}`),
    );
    const start = tools.find(t => t.name === 'releases.start-release')!;
    expect(start.inputSchema).toMatchObject({ type: 'object', required: ['entityRef', 'version'], additionalProperties: false });
    expect(start.annotations).toMatchObject({ destructiveHint: true, idempotentHint: false, readOnlyHint: false });
    expect(tools.find(t => t.name === 'releases.get-release')!.annotations).toMatchObject({ readOnlyHint: true });
    await agent.close();
  });

  it('assesses, starts a release, follows it to its verdict', async () => {
    const agent = await connect(url, OWNER);
    const change = { entityRef: 'component:default/checkout', version: '2.0.0', plan: 'quick', metadata: { linesAdded: 40, filesChanged: 2 } };
    const assessed = answerOf((await agent.callTool({ name: 'releases.assess-release-risk', arguments: change })) as ToolResult);
    expect(assessed.risk).toMatchObject({ blocked: false, model: 'prior' });
    expect(assessed.plan).toMatchObject({ name: 'quick', steps: [{ weight: 25 }, { weight: 100 }] });
    expect(answerOf((await agent.callTool({ name: 'releases.list-releases', arguments: {} })) as ToolResult).totalCount).toBe(0);

    const { release } = answerOf((await agent.callTool({ name: 'releases.start-release', arguments: change })) as ToolResult);
    expect(release).toMatchObject({ entityRef: 'component:default/checkout', version: '2.0.0', createdBy: OWNER, plan: 'quick' });

    let got: any;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise(resolve => setTimeout(resolve, 500));
      got = answerOf((await agent.callTool({ name: 'releases.get-release', arguments: { id: release.id } })) as ToolResult);
    } while (!['succeeded', 'rolled_back', 'failed'].includes(got.release.state) && Date.now() < deadline);

    expect(got.release.state).toBe('succeeded');
    // The healthy simulated canary: never a failing verdict; with 2 s steps the sequential judge may not have decided yet.
    expect(got.release.verdict).toMatchObject({ kind: 'canary', outcome: expect.stringMatching(/^(pass|inconclusive)$/), summary: expect.any(String) });
    expect(got.release.verdict.evidence.map((e: { metric: string }) => e.metric)).toEqual(expect.arrayContaining(['errorRate']));
    expect(got.release.verdict.evidence.every((e: { canaryRequests: number }) => e.canaryRequests > 0)).toBe(true);
    expect(got.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['created', 'succeeded']));
    await agent.close();
  });

  it('refuses a caller who does not own the entity, and nothing changes', async () => {
    const owner = await connect(url, OWNER);
    const other = await connect(url, OTHER);
    const before = answerOf((await owner.callTool({ name: 'releases.list-releases', arguments: {} })) as ToolResult);

    const refused = (await other.callTool({
      name: 'releases.start-release',
      arguments: { entityRef: 'component:default/checkout', version: '3.0.0', plan: 'quick' },
    })) as ToolResult;
    expect(refused.isError).toBe(true);
    expect(answerOf(refused).error).toContain('Not allowed: releases.release.create on component:default/checkout');
    const rollback = (await other.callTool({ name: 'releases.rollback-release', arguments: { id: before.items[0].id, reason: 'not mine' } })) as ToolResult;
    expect(rollback.isError).toBe(true);
    expect(answerOf(rollback).error).toContain('Not allowed: releases.release.rollback on component:default/checkout');

    // Reading is for everybody under this policy; what the other user sees is what was there.
    expect(answerOf((await other.callTool({ name: 'releases.list-releases', arguments: {} })) as ToolResult)).toEqual(before);
    expect(answerOf((await owner.callTool({ name: 'releases.list-releases', arguments: {} })) as ToolResult)).toEqual(before);
    await owner.close();
    await other.close();
  });
});
