import { createApiRef } from '@backstage/core-plugin-api';
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

/** The frontend's view of the `/api/releases` HTTP API. */
export interface ReleasesApi {
  listPlans(): Promise<PlanList>;
  listReleases(query: Partial<ListReleasesQuery>): Promise<ReleaseList>;
  getRelease(id: string): Promise<ReleaseDetails>;
  createRelease(request: CreateReleaseRequest): Promise<Release>;
  /** The risk a release would get and the plan it would run, without starting it. */
  assessRelease(request: CreateReleaseRequest): Promise<ReleasePreview>;
  act(id: string, action: ReleaseAction, reason?: string): Promise<Release>;
  /** Releases of everything a group and its child groups own, with DORA figures, over the last `days` days. */
  teamOverview(group: string, days: number): Promise<TeamOverview>;
  /** What in an entity's Release Pilot annotations would stop its releases, each with the fix. */
  annotationProblems(entityRef: string): Promise<{ problems: string[] }>;
  /** The entity's Argo Rollout (the argo-rollouts module). */
  getArgoRollout(entityRef: string): Promise<{ rollout: ArgoRolloutView }>;
  /** An action of `kubectl argo rollouts` on the entity's Rollout. */
  actOnArgoRollout(entityRef: string, action: ArgoRolloutAction, reason?: string): Promise<{ message: string; rollout: ArgoRolloutView }>;
}

/** The API ref of the releases client. */
export const releasesApiRef = createApiRef<ReleasesApi>({
  id: 'plugin.releases.service',
});
