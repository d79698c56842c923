import { Box, Typography } from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import { describeGate, Release } from '@release-pilot/plugin-releases-common';

/** The lifecycle phase in words, with the deployer's progress. */
export function phaseText(release: Release): string | undefined {
  const progress = release.operation?.progress ? ` (${release.operation.progress})` : '';
  const waiting = release.deployMode === 'confirm' ? '; waiting for the pipeline to confirm' : '';
  switch (release.state) {
    case 'deploying':
      return `Deploying ${release.version} to the canary side at 0%${progress}${waiting}`;
    case 'gating':
      return release.resilience ? `Resilience gate at 0%: ${describeGate(release.resilience)}` : undefined;
    case 'promoting':
      return release.operation?.kind === 'scaleDownCanary'
        ? `Promoted: stable runs ${release.version} at 100%; scaling the canary down${progress}`
        : `Promoting: the stable side gets ${release.version} while the canary serves ${release.canaryWeight}%${progress}${waiting}`;
    case 'rolling_back':
      if (release.operation?.kind === 'deployStable') return `Rolling back: putting ${release.operation.version} back on the stable side${progress}`;
      if (release.operation?.kind === 'scaleDownCanary') return `Rolling back: scaling the canary down${progress}`;
      if (release.recovery?.status === 'verifying' && release.recovery.restoredAt) return 'Rolled back to 0%: checking that the service is back at its pre-release level';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * "stable 2.0.0 · canary 2.1.0 at 10%": what each side runs, from the deployer's read-back. A side
 * the deployer is changing says so ("stable 2.0.0 → 2.1.0 (rolling out)"): until it is ready it runs
 * neither version alone.
 */
export function sidesText(release: Release): string | undefined {
  const sides = release.sides;
  if (!sides || release.deployMode === undefined || release.deployMode === 'unmanaged') return undefined;
  const op = release.operation;
  const changing = (kind: 'deployStable' | 'deployCanary') => (op?.kind === kind && op.version ? op.version : undefined);
  // The stable side held the previous version before a promotion, and the release's version before a restore.
  const stableBefore = release.state === 'promoting' ? release.previousVersion : release.version;
  const stableTo = changing('deployStable');
  const stable = stableTo
    ? `stable ${stableBefore ?? 'unknown version'} → ${stableTo} (rolling out)`
    : `stable ${sides.stable ?? release.previousVersion ?? 'unknown version'}`;
  const canaryTo = changing('deployCanary');
  let canary = sides.canaryUp === false || !sides.canary ? 'canary scaled down' : `canary ${sides.canary} at ${release.canaryWeight}%`;
  if (canaryTo) canary = `canary → ${canaryTo} (rolling out) at ${release.canaryWeight}%`;
  return `${stable} · ${canary}`;
}

/** Each side's version, the lifecycle phase, and after a rollback how fast the service recovered. */
export const ReleaseSides = ({ release }: { release: Release }) => {
  const sides = sidesText(release);
  const phase = phaseText(release);
  const recovery = release.recovery;
  if (!sides && !phase && !recovery) return null;
  return (
    <Box mb={2} data-testid="release-sides">
      {sides && (
        <Typography variant="body2" data-testid="side-versions">
          {sides}
        </Typography>
      )}
      {phase && (
        <Typography variant="body2" color="textSecondary" data-testid="release-phase">
          {phase}
        </Typography>
      )}
      {recovery?.status === 'recovered' && (
        <Alert severity="success" data-testid="release-recovery">
          Recovered in {(recovery.seconds ?? 0).toFixed(1)} s after the rollback decision: {recovery.summary}
        </Alert>
      )}
      {recovery?.status === 'unverified' && (
        <Alert severity="info" data-testid="release-recovery">
          Recovery not verified: {recovery.summary}
        </Alert>
      )}
      {recovery?.status === 'not_recovered' && (
        <Alert severity="error" data-testid="release-recovery">
          Not back at its pre-release level after the rollback: {recovery.summary}
        </Alert>
      )}
    </Box>
  );
};
