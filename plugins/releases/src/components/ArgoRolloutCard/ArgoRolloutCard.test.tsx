import { Entity } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { ArgoRolloutView } from '@release-pilot/plugin-releases-common';
import { ReleasesApi, releasesApiRef } from '../../api';
import { EntityReleasesContent } from '../EntityReleasesContent';

const paused: ArgoRolloutView = {
  name: 'storefront',
  namespace: 'shop',
  strategy: 'canary',
  phase: 'Paused',
  summary: 'Paused at step 2 of 3 with 20 % of traffic on the canary (shop:2.1.0), until someone promotes it.',
  steps: [
    { index: 0, kind: 'setWeight', weight: 20, text: 'send 20 % of traffic to the canary' },
    { index: 1, kind: 'pause', text: 'pause until someone promotes it' },
    { index: 2, kind: 'setWeight', weight: 50, text: 'send 50 % of traffic to the canary' },
  ],
  currentStepIndex: 1,
  canaryWeight: 20,
  paused: true,
  pauseConditions: [{ reason: 'CanaryPauseStep' }],
  aborted: false,
  stable: { replicaSet: 'storefront-a', revision: 3, images: ['shop:2.0.0'], replicas: 4, ready: 4 },
  canary: { replicaSet: 'storefront-b', revision: 4, images: ['shop:2.1.0'], replicas: 1, ready: 1 },
  analysisRuns: [],
  actions: {
    promote: { possible: true, why: 'Resume' },
    'promote-full': { possible: true, why: 'Skip the rest' },
    abort: { possible: true, why: 'Back to stable' },
    retry: { possible: false, why: 'Only an aborted Rollout can be retried' },
    undo: { possible: true, why: 'Previous revision' },
  },
};

const entity = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'release-pilot.io/argo-rollout': name } },
  spec: { type: 'website', owner: 'team-checkout', lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-checkout' }],
});

async function renderTab(name: string, authorize: AuthorizeResult.ALLOW | AuthorizeResult.DENY) {
  const api = {
    getArgoRollout: jest.fn().mockResolvedValue({ rollout: paused }),
    actOnArgoRollout: jest.fn().mockResolvedValue({ message: `rollout '${name}' promoted`, rollout: { ...paused, paused: false } }),
  } as unknown as jest.Mocked<ReleasesApi>;
  await renderInTestApp(
    <TestApiProvider apis={[[releasesApiRef, api], [permissionApiRef, mockApis.permission({ authorize })]]}>
      <EntityProvider entity={entity(name)}>
        <EntityReleasesContent />
      </EntityProvider>
    </TestApiProvider>,
  );
  return api;
}

describe('ArgoRolloutCard (an entity with only an Argo Rollout)', () => {
  it('shows the Rollout and promotes it; retry, which is not possible now, is disabled', async () => {
    const api = await renderTab('storefront', AuthorizeResult.ALLOW);
    expect(await screen.findByTestId('argo-summary')).toHaveTextContent(paused.summary);
    expect(screen.getByTestId('argo-canary')).toHaveTextContent('20 % of traffic');
    expect(screen.getByTestId('argo-retry')).toBeDisabled();
    fireEvent.click(screen.getByTestId('argo-promote'));
    await waitFor(() => expect(api.actOnArgoRollout).toHaveBeenCalledWith('component:default/storefront', 'promote'));
    expect(await screen.findByTestId('argo-message')).toHaveTextContent("rollout 'storefront' promoted");
  });

  it('a person who may not act sees why, and cannot press Promote', async () => {
    const api = await renderTab('storefront-denied', AuthorizeResult.DENY);
    await screen.findByTestId('argo-summary');
    await waitFor(() => expect(screen.getByTestId('argo-promote')).toBeDisabled());
    expect(screen.getAllByLabelText(/Only its owners \(group:default\/team-checkout\) and release admins may promote its Rollout/).length).toBeGreaterThan(0);
    fireEvent.click(screen.getByTestId('argo-promote'));
    expect(api.actOnArgoRollout).not.toHaveBeenCalled();
  });
});
