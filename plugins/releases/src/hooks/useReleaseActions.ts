import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { ReleaseAction } from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import { releasesApiRef } from '../api';

/** A person's actions on a release (pause, resume, promote, rollback): errors go to the alert bar. */
export function useReleaseActions(releaseId: string, onChanged: () => void) {
  const api = useApi(releasesApiRef);
  const alertApi = useApi(alertApiRef);
  const [busy, setBusy] = useState(false);
  const act = async (action: ReleaseAction, reason?: string) => {
    setBusy(true);
    try {
      await api.act(releaseId, action, reason);
      onChanged();
    } catch (e) {
      alertApi.post({ message: (e as Error).message, severity: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return { act, busy };
}
