import { Box, Paper, Typography } from '@material-ui/core';
import { Release, ReleaseDetails } from '@release-pilot/plugin-releases-common';
import { ReleaseStateChip } from '../ReleaseStateChip';

/** What a region's stable side runs now: the new version once its release succeeded, else the previous one. */
export function regionVersion(release: ReleaseDetails, region: Release | undefined): string {
  const stable = region?.sides?.stable;
  if (stable) return stable;
  return region?.state === 'succeeded' ? release.version : release.previousVersion ?? 'previous version';
}

/**
 * A release across regions, live: one column per wave, one card per region with its state, the
 * canary's weight, the version its stable side runs and its latest verdict; above, why the regions
 * are in this order.
 */
export const RegionGrid = ({ release }: { release: ReleaseDetails }) => {
  const rollout = release.rollout;
  if (!rollout) return null;
  const byRegion = new Map((release.regionReleases ?? []).map(r => [r.region!, r]));
  const waiting = rollout.state === 'baking' ? ` · baking ${rollout.plan.bakeSeconds} s before the next wave` : '';
  return (
    <Box mb={2} data-testid="region-grid">
      <Typography variant="subtitle2">
        {Object.keys(rollout.regions).length} regions in {rollout.plan.waves.length} waves · wave {Math.max(1, rollout.wave + 1)} of {rollout.plan.waves.length}
        {waiting}
      </Typography>
      {rollout.plan.order[0] && (
        <Typography variant="body2" color="textSecondary" data-testid="region-order">
          {rollout.plan.order[0].region} {rollout.plan.order[0].reason}
        </Typography>
      )}
      <Box display="flex" mt={1} style={{ gap: 12, overflowX: 'auto' }}>
        {rollout.plan.waves.map((wave, index) => (
          <Box key={index} minWidth={190} data-testid={`wave-${index + 1}`}>
            <Typography variant="overline">Wave {index + 1}</Typography>
            {wave.map(name => {
              const status = rollout.regions[name];
              const region = byRegion.get(name);
              const weight = region ? region.canaryWeight : status.weight;
              return (
                <Paper key={name} variant="outlined" style={{ padding: 8, marginBottom: 8 }} data-testid={`region-${name}`}>
                  <Box display="flex" alignItems="center" justifyContent="space-between" style={{ gap: 8 }}>
                    <Typography variant="body2">
                      <b>{name}</b>
                    </Typography>
                    {status.state === 'waiting' ? <Typography variant="caption">waiting</Typography> : <ReleaseStateChip state={region?.state ?? status.state} />}
                  </Box>
                  <Typography variant="caption" display="block">
                    stable {regionVersion(release, region)}
                    {region && ['running', 'paused', 'watching', 'promoting'].includes(region.state) ? ` · canary ${release.version} at ${weight}%` : ''}
                  </Typography>
                  {(region?.reason ?? region?.latestVerdict?.summary ?? status.verdict) && (
                    <Typography variant="caption" color="textSecondary" display="block">
                      {region?.reason ?? region?.latestVerdict?.summary ?? status.verdict}
                    </Typography>
                  )}
                </Paper>
              );
            })}
          </Box>
        ))}
      </Box>
    </Box>
  );
};
