import {
  Box,
  LinearProgress,
  Step,
  StepLabel,
  Stepper,
  Typography,
} from '@material-ui/core';
import { ReleaseDetails, stepProgress, watchProgress } from '@release-pilot/plugin-releases-common';

/** How far the release's current step (or its watch) is, by the engine's own rules (`stepProgress` in -common). */
export function releaseProgress(release: ReleaseDetails, now: Date): number {
  if (release.state === 'succeeded') return 1;
  if (release.state === 'watching') return watchProgress(release, now);
  if (!release.stepStartedAt) return 0;
  return stepProgress(release, now);
}

/**
 * The plan as a stepper: deploying the canary (where Release Pilot deploys), the canary weights, the
 * watch, and the promotion of the stable side; with a progress bar of the current step.
 */
export const ReleaseStepper = ({
  release,
  now = new Date(),
}: {
  release: ReleaseDetails;
  now?: Date;
}) => {
  const failedHere = release.state === 'rolled_back' || release.state === 'failed';
  const watchSeconds = release.plan.watchSeconds ?? 0;
  const stepCount = release.plan.steps.length;
  const watched = release.watchStartedAt !== undefined;
  const managed = release.deployMode === 'deployer' || release.deployMode === 'confirm';
  const gate = release.plan.gate;
  const gateIndex = managed ? 1 : 0;
  const first = (managed ? 1 : 0) + (gate ? 1 : 0);
  const watchIndex = first + stepCount;
  const promoteIndex = watchIndex + (watchSeconds > 0 ? 1 : 0);
  const deployed = release.timeline.some(e => e.type === 'canary_deployed');
  const promoted = release.timeline.some(e => e.type === 'promotion_started');
  // A gated release takes its first production traffic only once the gate passed.
  const inGate = gate !== undefined && release.resilience !== undefined && release.resilience.verdict !== 'passed';
  const stepsStarted = !gate || release.resilience?.verdict === 'passed';
  let active = first + release.currentStep;
  if (release.state === 'pending' || release.state === 'deploying') active = 0;
  else if (inGate) active = gateIndex;
  else if (release.state === 'succeeded') active = promoteIndex + (managed ? 1 : 0);
  else if (release.state === 'promoting' || (managed && promoted)) active = promoteIndex;
  else if (watched) active = watchIndex;
  const step = release.plan.steps[release.currentStep];
  const progress = releaseProgress(release, now);
  const warmUpLeft = release.warmUpUntil ? Math.ceil((Date.parse(release.warmUpUntil) - now.getTime()) / 1000) : 0;
  const blueGreen = release.plan.strategy === 'blueGreen';
  const label = (weight: number, approval?: boolean) => {
    if (blueGreen) return weight === 0 ? 'Preview' : 'Switch to 100%';
    return approval ? `Gate, ${weight}%` : `${weight}%`;
  };
  const caption = (text: string) => <Typography variant="caption">{text}</Typography>;
  return (
    <Box>
      <Stepper activeStep={active} alternativeLabel>
        {managed && (
          <Step key="deploy" completed={active > 0}>
            <StepLabel error={failedHere && !deployed} optional={caption('canary at 0%')}>
              Deploy
            </StepLabel>
          </Step>
        )}
        {gate && (
          <Step key="gate" completed={active > gateIndex}>
            <StepLabel error={failedHere && inGate} optional={caption(`${gate.experiments.length} experiment${gate.experiments.length === 1 ? '' : 's'} at 0%`)}>
              Resilience gate
            </StepLabel>
          </Step>
        )}
        {release.plan.steps.map((s, index) => (
          <Step key={index} completed={first + index < active}>
            <StepLabel
              error={failedHere && (deployed || !managed) && stepsStarted && !watched && index === release.currentStep}
              optional={caption(`${s.minDurationSeconds}s, ${s.minCanaryRequests} req`)}
            >
              {label(s.weight, s.approval)}
            </StepLabel>
          </Step>
        ))}
        {watchSeconds > 0 && (
          <Step key="watch" completed={active > watchIndex}>
            <StepLabel error={failedHere && watched && !promoted} optional={caption(`${watchSeconds}s vs history`)}>
              {blueGreen ? 'Bake' : 'Watch'}
            </StepLabel>
          </Step>
        )}
        {managed && (
          <Step key="promote" completed={active > promoteIndex}>
            <StepLabel error={failedHere && promoted} optional={caption('stable gets it')}>
              Promote
            </StepLabel>
          </Step>
        )}
      </Stepper>
      {(release.state === 'running' || release.state === 'paused') && !inGate ? (
        <Box px={2}>
          <Typography variant="body2" gutterBottom>
            Step {release.currentStep + 1} of {release.plan.steps.length}: canary weight{' '}
            {release.canaryWeight}% · {release.stepCanaryRequests.toLocaleString('en-US')} of{' '}
            {step?.minCanaryRequests.toLocaleString('en-US')} canary requests · at least{' '}
            {step?.minDurationSeconds}s
            {warmUpLeft > 0
              ? ` · warming up: the new version's first ${release.plan.warmUpSeconds}s are not judged (${warmUpLeft}s left)`
              : ''}
          </Typography>
          <LinearProgress
            variant="determinate"
            value={progress * 100}
            aria-label="progress of the current step"
          />
        </Box>
      ) : null}
      {release.state === 'watching' ? (
        <Box px={2}>
          <Typography variant="body2" gutterBottom>
            Post-release watch: the new version takes all the traffic and is compared with the service&apos;s own
            history at this time of day · {Math.round(progress * watchSeconds)} of {watchSeconds}s
          </Typography>
          <LinearProgress variant="determinate" value={progress * 100} aria-label="progress of the post-release watch" />
        </Box>
      ) : null}
    </Box>
  );
};
