import { useApi } from '@backstage/core-plugin-api';
import { releasesApiRef } from '../api';
import { usePolling } from './usePolling';

/**
 * An entity's releases (newest first) and its latest release in full, polled; `refresh` asks again
 * at once (after an action).
 */
export function useRelease(entityRef: string) {
  const api = useApi(releasesApiRef);
  const list = usePolling(() => api.listReleases({ entityRef, limit: 50 }), [api, entityRef]);
  const latestId = list.value?.items[0]?.id;
  const latest = usePolling(async () => (latestId ? api.getRelease(latestId) : undefined), [api, latestId]);
  return {
    releases: list.value?.items,
    latestId,
    latest: latest.value,
    error: list.value ? undefined : list.error,
    refresh: () => {
      list.retry();
      latest.retry();
    },
  };
}
