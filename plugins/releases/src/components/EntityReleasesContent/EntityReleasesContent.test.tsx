import { Entity } from '@backstage/catalog-model';
import { alertApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ReleasesApi, releasesApiRef } from '../../api';
import { rolledBackRelease } from '../../__testUtils__/fixtures';
import { EntityReleasesContent } from './EntityReleasesContent';

const entity = (annotations: Record<string, string> = {}, name = 'checkout'): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-checkout', lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-checkout' }],
});

function mockApi(overrides: Partial<ReleasesApi> = {}): jest.Mocked<ReleasesApi> {
  const release = rolledBackRelease();
  return {
    listPlans: jest.fn().mockResolvedValue({ defaultPlan: 'demo', plans: [release.plan, { name: 'careful', steps: [{ weight: 5, minDurationSeconds: 10, minCanaryRequests: 100 }, { weight: 100, minDurationSeconds: 10, minCanaryRequests: 100 }] }] }),
    listReleases: jest.fn().mockResolvedValue({ items: [release], totalCount: 1, offset: 0, limit: 50 }),
    getRelease: jest.fn().mockResolvedValue(release),
    createRelease: jest.fn().mockResolvedValue({ ...release, state: 'pending' }),
    act: jest.fn().mockResolvedValue(release),
    assessRelease: jest.fn().mockRejectedValue(new Error('no preview in this test')),
    annotationProblems: jest.fn().mockResolvedValue({ problems: [] }),
    ...overrides,
  } as jest.Mocked<ReleasesApi>;
}

async function renderTab(
  api: ReleasesApi,
  annotations: Record<string, string> = { 'release-pilot.io/target': 'simulator' },
  authorize: AuthorizeResult.ALLOW | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  // usePermission caches decisions per entity across renders: a denied test uses its own entity.
  name = 'checkout',
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [releasesApiRef, api],
        [alertApiRef, { post: jest.fn(), alert$: jest.fn() }],
        [permissionApiRef, mockApis.permission({ authorize })],
      ]}
    >
      <EntityProvider entity={entity(annotations, name)}>
        <EntityReleasesContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

describe('EntityReleasesContent', () => {
  it('explains the missing annotation', async () => {
    await renderTab(mockApi(), {});
    expect(screen.getByText(/Missing Annotation/i)).toBeInTheDocument();
    expect(screen.getAllByText(/release-pilot.io\/target/).length).toBeGreaterThan(0);
  });

  it('shows the latest release: state, reason, plan, evidence, timeline and history', async () => {
    const api = mockApi();
    await renderTab(api);
    expect(await screen.findByText('Latest release: 2.1.0-faulty')).toBeInTheDocument();
    expect(api.listReleases).toHaveBeenCalledWith({ entityRef: 'component:default/checkout', limit: 50 });
    expect(screen.getByTestId('release-reason')).toHaveTextContent('Rolled back: P95 latency 3,033 ms vs 147 ms baseline (20.6x)');
    const evidence = screen.getByRole('table', { name: 'verdict evidence' });
    expect(within(evidence).getByText('3,033 ms')).toBeInTheDocument();
    expect(within(evidence).getByText('147 ms')).toBeInTheDocument();
    expect(within(evidence).getByText('20.6x')).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'release timeline' })).toHaveTextContent('Rolling back: P95 latency');
    expect(screen.getByText('Release history')).toBeInTheDocument();
    expect(screen.getByTestId('release-charts')).toBeInTheDocument();
    // A rolled-back release offers no rollback, and a new release may start.
    expect(screen.queryByRole('button', { name: 'Rollback' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Roll back to the previous version' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Start release' })).toBeEnabled();
  });

  it('starts a release with the version and the chosen plan, previewing its steps', async () => {
    const api = mockApi({ listReleases: jest.fn().mockResolvedValue({ items: [], totalCount: 0, offset: 0, limit: 50 }) });
    await renderTab(api);
    expect(await screen.findByText('No releases yet')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Start release' }));
    expect(await screen.findByTestId('plan-preview')).toHaveTextContent('1% (6s, 50 req) → 100% (6s, 50 req)');
    fireEvent.change(screen.getByLabelText('version'), { target: { value: ' 2.2.0 ' } });
    fireEvent.change(screen.getByLabelText('lines changed'), { target: { value: '1200' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    // No plan picked: the backend shapes the entity's plan by the predicted risk.
    await waitFor(() =>
      expect(api.createRelease).toHaveBeenCalledWith({ entityRef: 'component:default/checkout', version: '2.2.0', metadata: { linesAdded: 1200 } }),
    );
  });

  it('shows the predicted risk, its reasons, the plan it chose and an override', async () => {
    const risky = {
      ...rolledBackRelease(),
      plan: { name: 'demo (high risk)', steps: [{ weight: 1, minDurationSeconds: 12, minCanaryRequests: 50 }, { weight: 50, minDurationSeconds: 12, minCanaryRequests: 50, approval: true }, { weight: 100, minDurationSeconds: 12, minCanaryRequests: 50 }] },
      risk: {
        probability: 0.93,
        model: 'prior' as const,
        threshold: 0.85,
        blocked: true,
        reasons: [{ feature: 'linesChanged', text: 'lines changed: 20,000 (usually 200), +12 points', effect: 0.12 }],
        features: { linesChanged: 20000 },
        plan: { name: 'demo (high risk)', reason: 'risk 93% is at or above 50%: smaller steps (1% > 50% > 100%), twice as long each, and a manual gate before 50%' },
        override: { actor: 'user:default/alice', reason: 'hotfix for the outage' },
        planOverride: { shaped: 'default (high risk)', lessCareful: ['a jump of 49 points in weight (the risk\'s plan: 25)'] },
      },
    };
    await renderTab(mockApi({ listReleases: jest.fn().mockResolvedValue({ items: [risky], totalCount: 1, offset: 0, limit: 50 }), getRelease: jest.fn().mockResolvedValue(risky) }));
    const risk = await screen.findByTestId('release-risk');
    expect(risk).toHaveTextContent('Predicted risk93% (above the 85% limit)');
    expect(risk).toHaveTextContent('lines changed: 20,000 (usually 200), +12 points');
    expect(screen.getByTestId('risk-plan')).toHaveTextContent("Plan 'demo (high risk)': risk 93% is at or above 50%");
    expect(screen.getByTestId('risk-override')).toHaveTextContent('Risk gate overridden by user:default/alice: hotfix for the outage');
    expect(screen.getByTestId('risk-plan-override')).toHaveTextContent("Chosen instead of the risk's plan 'default (high risk)', less careful in a jump of 49 points in weight (the risk's plan: 25)");
    expect(screen.getByText('Gate, 50%')).toBeInTheDocument();
  });

  it('previews the risk and the plan it shapes while the person types, before starting', async () => {
    const shaped = { name: 'demo (high risk)', steps: [{ weight: 1, minDurationSeconds: 12, minCanaryRequests: 50 }, { weight: 50, minDurationSeconds: 12, minCanaryRequests: 50, approval: true }, { weight: 100, minDurationSeconds: 12, minCanaryRequests: 50 }] };
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [], totalCount: 0, offset: 0, limit: 50 }),
      assessRelease: jest.fn().mockImplementation(async request => ({
        plan: shaped,
        risk: {
          probability: request.metadata?.linesAdded ? 0.62 : 0.14,
          model: 'prior',
          threshold: 0.85,
          blocked: false,
          reasons: request.metadata?.linesAdded ? [{ feature: 'linesChanged', text: 'lines changed: 9,000 (usually 200), +40 points', effect: 0.4 }] : [],
          features: {},
          ...(!request.metadata?.linesAdded && { unknown: ['change size (no lines or files changed were sent)'] }),
          plan: { name: 'demo (high risk)', reason: 'risk 62% is at or above 50%: smaller steps (1% > 50% > 100%), twice as long each, and a manual gate before 50%' },
        },
        detectable: { ratio: 4.7, probability: 0.9, runs: 40, rps: 20, baselineErrorRate: 0.005 },
      })),
    });
    await renderTab(api);
    fireEvent.click(await screen.findByRole('button', { name: 'Start release' }));
    expect(await screen.findByTestId('risk-unknown', {}, { timeout: 3000 })).toHaveTextContent(
      'Unknown: change size (no lines or files changed were sent). An unknown change size never counts as low risk.',
    );
    fireEvent.change(await screen.findByLabelText('lines changed'), { target: { value: '9000' } });
    const risk = await screen.findByTestId('release-risk', {}, { timeout: 3000 });
    await waitFor(() => expect(risk).toHaveTextContent('Predicted risk62%'));
    expect(screen.queryByTestId('risk-unknown')).toBeNull();
    expect(risk).toHaveTextContent('lines changed: 9,000 (usually 200), +40 points');
    expect(screen.getByTestId('risk-plan')).toHaveTextContent("Plan 'demo (high risk)': risk 62% is at or above 50%");
    expect(screen.getByTestId('plan-preview')).toHaveTextContent('gate, 50% (12s, 50 req)');
    // What the plan can detect at the service's traffic, as a warning when 2x is out of its reach.
    expect(screen.getByTestId('detectable-effect')).toHaveTextContent(
      "At 20 requests/s (0.5 % errors) this plan catches an error rate 4.7x the stable version's (2.4 %) or worse in 90 % of releases: a 2x regression can slip through",
    );
    expect(api.assessRelease).toHaveBeenLastCalledWith({ entityRef: 'component:default/checkout', version: 'preview', metadata: { linesAdded: 9000 } });
  });

  it('shows why the risk gate blocked a release and starts it anyway with a reason', async () => {
    const blocked = Object.assign(new Error('Request failed with 409 Conflict'), {
      body: { error: { name: 'ReleaseBlockedError', message: 'Release blocked: predicted risk 93% is above the limit of 85% (lines changed: 20,000 (usually 200), +12 points)' } },
    });
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [], totalCount: 0, offset: 0, limit: 50 }),
      createRelease: jest.fn().mockRejectedValueOnce(blocked).mockResolvedValueOnce({}),
    });
    await renderTab(api);
    fireEvent.click(await screen.findByRole('button', { name: 'Start release' }));
    fireEvent.change(await screen.findByLabelText('version'), { target: { value: '3.0.0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(await screen.findByTestId('start-error')).toHaveTextContent('predicted risk 93% is above the limit of 85% (lines changed: 20,000');
    expect(screen.getByRole('button', { name: 'Start anyway' })).toBeDisabled();
    fireEvent.change(screen.getByLabelText('override reason'), { target: { value: 'hotfix for the outage' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start anyway' }));
    await waitFor(() =>
      expect(api.createRelease).toHaveBeenLastCalledWith({
        entityRef: 'component:default/checkout',
        version: '3.0.0',
        metadata: {},
        riskOverride: { reason: 'hotfix for the outage' },
      }),
    );
  });

  it('shows the error the API gives when a release cannot start', async () => {
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [], totalCount: 0, offset: 0, limit: 50 }),
      createRelease: jest.fn().mockRejectedValue(new Error('Invalid request body: version may contain letters')),
    });
    await renderTab(api);
    fireEvent.click(await screen.findByRole('button', { name: 'Start release' }));
    fireEvent.change(await screen.findByLabelText('version'), { target: { value: 'bad version' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    expect(await screen.findByText(/version may contain letters/)).toBeInTheDocument();
  });

  it('rolls back a running release after confirmation, with the reason', async () => {
    const running = { ...rolledBackRelease(), state: 'running' as const, reason: undefined, finishedAt: undefined };
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [running], totalCount: 1, offset: 0, limit: 50 }),
      getRelease: jest.fn().mockResolvedValue(running),
    });
    await renderTab(api);
    expect(await screen.findByText('Current release: 2.1.0-faulty')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Start release' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Pause' })).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Rollback' }));
    fireEvent.change(await screen.findByLabelText('reason'), { target: { value: 'customers complain' } });
    fireEvent.click(screen.getByRole('button', { name: 'Roll back now' }));
    await waitFor(() => expect(api.act).toHaveBeenCalledWith(running.id, 'rollback', 'customers complain'));
  });

  it('a person who does not own the service sees every action disabled, and why', async () => {
    const running = { ...rolledBackRelease(), state: 'running' as const, reason: undefined, finishedAt: undefined };
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [running], totalCount: 1, offset: 0, limit: 50 }),
      getRelease: jest.fn().mockResolvedValue(running),
    });
    await renderTab(api, undefined, AuthorizeResult.DENY, 'search');
    expect(await screen.findByText('Current release: 2.1.0-faulty')).toBeInTheDocument();
    expect(await screen.findByTestId('permission-note')).toHaveTextContent(
      'Only its owners (group:default/team-checkout) and release admins may start, pause, promote or roll back its releases.',
    );
    for (const name of ['Start release', 'Pause', 'Promote', 'Rollback']) {
      expect(screen.getByRole('button', { name })).toBeDisabled();
    }
    expect(screen.getAllByTestId('denied-action')[1]).toHaveAttribute('aria-label', 'Only its owners (group:default/team-checkout) and release admins may pause releases');
  });

  it('rolls the last succeeded release back to the previous version after confirmation', async () => {
    const done = { ...rolledBackRelease(), state: 'succeeded' as const, reason: undefined, canaryWeight: 100 };
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [done], totalCount: 1, offset: 0, limit: 50 }),
      getRelease: jest.fn().mockResolvedValue(done),
    });
    await renderTab(api);
    expect(await screen.findByText('Latest release: 2.1.0-faulty')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Roll back to the previous version' }));
    expect(await screen.findByText(/All traffic goes back to the previous version/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Roll back now' }));
    await waitFor(() => expect(api.act).toHaveBeenCalledWith(done.id, 'rollback', undefined));
  });

  it('shows what the backend would refuse in the annotations, with the fix, and does not offer to start', async () => {
    const problem = "release-pilot.io/haproxy-backend: 'x;set server' is not allowed; use letters, digits and . _ - :, 1 to 64 characters.";
    const api = mockApi({ annotationProblems: jest.fn().mockResolvedValue({ problems: [problem] }) });
    await renderTab(api, { 'release-pilot.io/target': 'vm' }, undefined, 'misconfigured');
    expect(await screen.findByTestId('annotation-problems')).toHaveTextContent(problem);
    expect(api.annotationProblems).toHaveBeenCalledWith('component:default/misconfigured');
    expect(screen.getByRole('button', { name: 'Start release' })).toBeDisabled();
  });

  it('says plainly when a rollback waits for an unreachable router', async () => {
    const pending = {
      ...rolledBackRelease(),
      state: 'rolling_back' as const,
      canaryWeight: 0,
      finishedAt: undefined,
      routerErrorSince: '2026-01-01T10:00:00.000Z',
      routerError: 'connect ECONNREFUSED 127.0.0.1:9999',
    };
    const api = mockApi({
      listReleases: jest.fn().mockResolvedValue({ items: [pending], totalCount: 1, offset: 0, limit: 50 }),
      getRelease: jest.fn().mockResolvedValue(pending),
    });
    await renderTab(api);
    expect(await screen.findByTestId('rollback-pending')).toHaveTextContent(
      /^Rollback pending: router unreachable since .+ \(connect ECONNREFUSED 127\.0\.0\.1:9999\); retrying with backoff until it succeeds\.$/,
    );
    expect(screen.queryByRole('button', { name: 'Rollback' })).not.toBeInTheDocument();
  });
});
