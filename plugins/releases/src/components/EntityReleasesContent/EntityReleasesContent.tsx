import { RELATION_OWNED_BY, stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  MissingAnnotationEmptyState,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { Box, Grid, Typography } from '@material-ui/core';
import {
  isActiveRelease,
  RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import { useState } from 'react';
import { releasesApiRef } from '../../api';
import { isReleasesAvailable } from '../../isReleasesAvailable';
import { useRelease } from '../../hooks/useRelease';
import useAsync from 'react-use/esm/useAsync';
import { ReleaseDetails } from '../ReleaseDetails';
import { ReleaseHistory } from '../ReleaseHistory';
import { StartReleaseDialog } from '../StartReleaseDialog';
import { ReleaseActionButton } from '../ReleaseActionButton';
import { ArgoRolloutCard } from '../ArgoRolloutCard';
import { deniedReason, useReleasePermissions } from '../../hooks/useReleasePermissions';

const ReleasesView = ({
  entityRef,
  annotatedPlan,
  owners,
  annotations,
}: {
  entityRef: string;
  annotatedPlan?: string;
  owners: string[];
  annotations: Record<string, string>;
}) => {
  const api = useApi(releasesApiRef);
  // The backend says what it would refuse: unknown names, and values its providers would not use.
  const checked = useAsync(() => api.annotationProblems(entityRef), [api, entityRef, JSON.stringify(annotations)]);
  const problems = checked.value?.problems ?? [];
  const permissions = useReleasePermissions(entityRef);
  const [starting, setStarting] = useState(false);
  const { releases, latestId, latest, error, refresh } = useRelease(entityRef);

  if (error) return <ResponseErrorPanel error={error} />;
  if (!releases) return <Progress />;

  const canStart = !releases.some(r => isActiveRelease(r.state)) && problems.length === 0;

  return (
    <Grid container spacing={3}>
      {problems.length > 0 && (
        <Grid item xs={12}>
          <WarningPanel severity="error" title="This entity's Release Pilot annotations need a fix before it can be released" defaultExpanded>
            <ul data-testid="annotation-problems">
              {problems.map(problem => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </WarningPanel>
        </Grid>
      )}
      <Grid item xs={12}>
        <Box display="flex" justifyContent="flex-end" alignItems="center" style={{ gap: 16 }}>
          {!permissions.loading && !permissions.start && (
            <Typography variant="body2" color="textSecondary" data-testid="permission-note">
              {deniedReason('start, pause, promote or roll back its releases', owners)}.
            </Typography>
          )}
          <ReleaseActionButton
            variant="contained"
            color="primary"
            disabled={!canStart}
            deciding={permissions.loading}
            allowed={permissions.start}
            deniedReason={deniedReason('start releases', owners)}
            onClick={() => setStarting(true)}
          >
            Start release
          </ReleaseActionButton>
        </Box>
      </Grid>
      <Grid item xs={12}>
        {latest ? (
          <ReleaseDetails release={latest} onChanged={refresh} permissions={permissions} owners={owners} />
        ) : (
          latestId === undefined && (
            <EmptyState
              missing="content"
              title="No releases yet"
              description="Start a release to shift traffic to a new version step by step, with automatic rollback."
            />
          )
        )}
      </Grid>
      {releases.length > 0 && (
        <Grid item xs={12}>
          <ReleaseHistory releases={releases} />
        </Grid>
      )}
      <StartReleaseDialog
        open={starting}
        entityRef={entityRef}
        defaultPlan={annotatedPlan}
        onClose={() => setStarting(false)}
        onStarted={() => {
          setStarting(false);
          refresh();
        }}
      />
    </Grid>
  );
};

/** The entity's Argo Rollout (entities annotated with `release-pilot.io/argo-rollout`). */
const ArgoRolloutView = ({ entityRef, owners }: { entityRef: string; owners: string[] }) => {
  const permissions = useReleasePermissions(entityRef);
  return <ArgoRolloutCard entityRef={entityRef} permissions={permissions} owners={owners} />;
};

/** The Releases tab of an entity page: its Release Pilot releases, its Argo Rollout, or both. */
export const EntityReleasesContent = () => {
  const { entity } = useEntity();
  if (!isReleasesAvailable(entity)) {
    return <MissingAnnotationEmptyState annotation={RELEASE_PILOT_TARGET_ANNOTATION} />;
  }
  const annotations = entity.metadata.annotations ?? {};
  const entityRef = stringifyEntityRef(entity);
  const owners = (entity.relations ?? []).filter(r => r.type === RELATION_OWNED_BY).map(r => r.targetRef);
  return (
    <Grid container spacing={3}>
      {annotations[RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION] && (
        <Grid item xs={12}>
          <ArgoRolloutView entityRef={entityRef} owners={owners} />
        </Grid>
      )}
      {annotations[RELEASE_PILOT_TARGET_ANNOTATION] && (
        <Grid item xs={12}>
          <ReleasesView entityRef={entityRef} annotatedPlan={annotations[RELEASE_PILOT_PLAN_ANNOTATION]} owners={owners} annotations={annotations} />
        </Grid>
      )}
    </Grid>
  );
};
