import { Entity } from '@backstage/catalog-model';
import { RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION, RELEASE_PILOT_TARGET_ANNOTATION } from '@release-pilot/plugin-releases-common';

/** True when the entity names a release target or an Argo Rollout, so the Releases tab has something to show. */
export const isReleasesAvailable = (entity: Entity): boolean =>
  Boolean(entity.metadata.annotations?.[RELEASE_PILOT_TARGET_ANNOTATION] || entity.metadata.annotations?.[RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION]);
