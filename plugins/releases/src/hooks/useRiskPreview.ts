import { useApi } from '@backstage/core-plugin-api';
import { CreateReleaseRequest, ReleasePreview } from '@release-pilot/plugin-releases-common';
import { useEffect, useState } from 'react';
import { releasesApiRef } from '../api';

/**
 * The risk a release request would get, the plan it would run and what that plan can detect
 * (`POST /risk/assess`), refreshed
 * 300 ms after the request last changed, while `enabled`. Undefined until known, or when refused.
 */
export function useRiskPreview(request: CreateReleaseRequest, enabled: boolean): ReleasePreview | undefined {
  const api = useApi(releasesApiRef);
  const [assessment, setAssessment] = useState<ReleasePreview | undefined>();
  const key = JSON.stringify(request);
  useEffect(() => {
    if (!enabled) return undefined;
    const timer = setTimeout(() => {
      api.assessRelease(JSON.parse(key)).then(setAssessment, () => setAssessment(undefined));
    }, 300);
    return () => clearTimeout(timer);
  }, [api, enabled, key]);
  return assessment;
}
