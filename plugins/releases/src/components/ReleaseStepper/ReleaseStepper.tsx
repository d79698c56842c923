import {
  Box,
  LinearProgress,
  Step,
  StepLabel,
  Stepper,
  Typography,
} from '@material-ui/core';
import { ReleaseDetails } from '@release-pilot/plugin-releases-common';

/** How far the current step is: the lesser of its time and its canary requests, as a fraction. */
export function stepProgress(release: ReleaseDetails, now: Date): number {
  if (release.state === 'succeeded') return 1;
  const step = release.plan.steps[release.currentStep];
  if (!step || !release.stepStartedAt) return 0;
  const elapsed = (now.getTime() - new Date(release.stepStartedAt).getTime()) / 1000;
  const byTime = step.minDurationSeconds > 0 ? elapsed / step.minDurationSeconds : 1;
  const byRequests =
    step.minCanaryRequests > 0 ? release.stepCanaryRequests / step.minCanaryRequests : 1;
  return Math.max(0, Math.min(1, byTime, byRequests));
}

/** The plan as a stepper of canary weights, with a progress bar of the current step. */
export const ReleaseStepper = ({
  release,
  now = new Date(),
}: {
  release: ReleaseDetails;
  now?: Date;
}) => {
  const failedHere = release.state === 'rolled_back' || release.state === 'failed';
  const active = release.state === 'succeeded' ? release.plan.steps.length : release.currentStep;
  const step = release.plan.steps[release.currentStep];
  const progress = stepProgress(release, now);
  return (
    <Box>
      <Stepper activeStep={active} alternativeLabel>
        {release.plan.steps.map((s, index) => (
          <Step key={index} completed={index < active}>
            <StepLabel
              error={failedHere && index === release.currentStep}
              optional={
                <Typography variant="caption">
                  {s.minDurationSeconds}s, {s.minCanaryRequests} req
                </Typography>
              }
            >
              {s.weight}%
            </StepLabel>
          </Step>
        ))}
      </Stepper>
      {release.state === 'running' || release.state === 'paused' ? (
        <Box px={2}>
          <Typography variant="body2" gutterBottom>
            Step {release.currentStep + 1} of {release.plan.steps.length}: canary weight{' '}
            {release.canaryWeight}% · {release.stepCanaryRequests.toLocaleString('en-US')} of{' '}
            {step?.minCanaryRequests.toLocaleString('en-US')} canary requests · at least{' '}
            {step?.minDurationSeconds}s
          </Typography>
          <LinearProgress
            variant="determinate"
            value={progress * 100}
            aria-label="progress of the current step"
          />
        </Box>
      ) : null}
    </Box>
  );
};
