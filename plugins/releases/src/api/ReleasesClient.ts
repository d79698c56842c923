import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  ArgoRolloutAction,
  ArgoRolloutView,
  CreateReleaseRequest,
  ListReleasesQuery,
  PlanList,
  Release,
  ReleaseAction,
  ReleaseDetails,
  ReleaseList,
  ReleasePreview,
  TeamOverview,
} from '@release-pilot/plugin-releases-common';
import { ReleasesApi } from './ReleasesApi';

/** Talks to the releases backend through the discovery and fetch APIs. */
export class ReleasesClient implements ReleasesApi {
  constructor(
    private readonly deps: { discoveryApi: DiscoveryApi; fetchApi: FetchApi },
  ) {}

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
    const baseUrl = await this.deps.discoveryApi.getBaseUrl('releases');
    const response = await this.deps.fetchApi.fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { 'Content-Type': 'application/json', ...init?.headers },
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }

  listPlans(): Promise<PlanList> {
    return this.request('/plans');
  }

  listReleases(query: Partial<ListReleasesQuery>): Promise<ReleaseList> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    return this.request(`/releases?${params}`);
  }

  getRelease(id: string): Promise<ReleaseDetails> {
    return this.request(`/releases/${encodeURIComponent(id)}`);
  }

  createRelease(request: CreateReleaseRequest): Promise<Release> {
    return this.request('/releases', {
      method: 'POST',
      body: JSON.stringify(request),
    });
  }

  assessRelease(request: CreateReleaseRequest): Promise<ReleasePreview> {
    return this.request('/risk/assess', { method: 'POST', body: JSON.stringify(request) });
  }

  act(id: string, action: ReleaseAction, reason?: string): Promise<Release> {
    return this.request(`/releases/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      body: JSON.stringify(reason ? { reason } : {}),
    });
  }

  teamOverview(group: string, days: number): Promise<TeamOverview> {
    return this.request(`/teams/overview?${new URLSearchParams({ group, days: String(days) })}`);
  }

  annotationProblems(entityRef: string): Promise<{ problems: string[] }> {
    return this.request(`/annotations/problems?${new URLSearchParams({ entityRef })}`);
  }

  getArgoRollout(entityRef: string): Promise<{ rollout: ArgoRolloutView }> {
    return this.request(`/argo-rollouts?${new URLSearchParams({ entityRef })}`);
  }

  actOnArgoRollout(entityRef: string, action: ArgoRolloutAction, reason?: string): Promise<{ message: string; rollout: ArgoRolloutView }> {
    return this.request(`/argo-rollouts/${action}`, { method: 'POST', body: JSON.stringify({ entityRef, ...(reason && { reason }) }) });
  }
}
