import { Release } from './types';

/**
 * How far a release's current step is, as a fraction from 0 to 1: the lesser of its time and its
 * canary requests against the step's minimums. A step that gives the canary traffic needs at least
 * one canary request, whatever its minimum: no promotion on missing data. The engine moves on when
 * it reaches 1; the Releases tab draws it.
 */
export function stepProgress(release: Pick<Release, 'plan' | 'currentStep' | 'stepStartedAt' | 'stepCanaryRequests'>, now: Date): number {
  const step = release.plan.steps[release.currentStep];
  if (!step) return 0;
  const startedAt = release.stepStartedAt ? Date.parse(release.stepStartedAt) : now.getTime();
  const elapsedSeconds = (now.getTime() - startedAt) / 1000;
  const minRequests = Math.max(step.minCanaryRequests, step.weight > 0 ? 1 : 0);
  const byTime = step.minDurationSeconds > 0 ? elapsedSeconds / step.minDurationSeconds : 1;
  const byRequests = minRequests > 0 ? release.stepCanaryRequests / minRequests : 1;
  return Math.max(0, Math.min(1, byTime, byRequests));
}

/** How far the post-release watch is, from 0 to 1 (1 at once for a plan without one). */
export function watchProgress(release: Pick<Release, 'plan' | 'watchStartedAt'>, now: Date): number {
  const seconds = release.plan.watchSeconds ?? 0;
  if (seconds <= 0) return 1;
  const startedAt = release.watchStartedAt ? Date.parse(release.watchStartedAt) : now.getTime();
  return Math.max(0, Math.min(1, (now.getTime() - startedAt) / 1000 / seconds));
}
