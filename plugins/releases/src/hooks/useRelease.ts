import { useApi } from '@backstage/core-plugin-api';
import { releasesApiRef } from '../api';
import { entitySignalChannel } from '@release-pilot/plugin-releases-common';
import { POLL_INTERVAL_MS, usePolling } from './usePolling';

/**
 * An entity's releases (newest first) and its latest release in full, reloaded on each signal of the
 * entity's channel (or polled without signals); `refresh` asks again at once (after an action).
 */
export function useRelease(entityRef: string) {
  const api = useApi(releasesApiRef);
  const channel = entitySignalChannel(entityRef);
  const list = usePolling(() => api.listReleases({ entityRef, limit: 50 }), [api, entityRef], POLL_INTERVAL_MS, channel);
  const latestId = list.value?.items[0]?.id;
  const latest = usePolling(async () => (latestId ? api.getRelease(latestId) : undefined), [api, latestId], POLL_INTERVAL_MS, channel);
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
