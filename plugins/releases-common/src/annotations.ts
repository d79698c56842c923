/** The prefix of every Release Pilot annotation; a release keeps its entity's annotations with it. */
export const RELEASE_PILOT_ANNOTATION_PREFIX = 'release-pilot.io/';

/** Annotation naming the target (traffic router + metric provider) that releases of an entity go through. */
export const RELEASE_PILOT_TARGET_ANNOTATION = 'release-pilot.io/target';

/** Optional annotation naming the judge (from `releases.judges` in config) that judges this entity's releases. */
export const RELEASE_PILOT_JUDGE_ANNOTATION = 'release-pilot.io/judge';

/** @deprecated The old name of `release-pilot.io/judge`, still read when that one is absent. */
export const RELEASE_PILOT_ANALYSIS_ANNOTATION = 'release-pilot.io/analysis';

/** The judge an entity's annotations name: `release-pilot.io/judge`, else the deprecated `release-pilot.io/analysis`. */
export function judgeAnnotation(annotations: Record<string, string>): string | undefined {
  return annotations[RELEASE_PILOT_JUDGE_ANNOTATION] ?? annotations[RELEASE_PILOT_ANALYSIS_ANNOTATION];
}

/** Optional annotation naming the plan (from `releases.plans` in config) that releases of an entity use by default. */
export const RELEASE_PILOT_PLAN_ANNOTATION = 'release-pilot.io/plan';

/**
 * Optional annotation on a Group: the escalation channels (names under
 * `releases.notifications.channels` in config, comma-separated) that hear about the group's releases.
 * Secrets (webhook URLs, routing keys) stay in config.
 */
export const RELEASE_PILOT_CHANNELS_ANNOTATION = 'release-pilot.io/notify-channels';

/**
 * Optional annotation narrowing a release across regions to the regions an entity runs in:
 * comma-separated region names of its target (`eu-west-1, us-east-1`). Absent: every region.
 */
export const RELEASE_PILOT_REGIONS_ANNOTATION = 'release-pilot.io/regions';

/**
 * Optional annotation listing the resilience gate's experiments for an entity's releases:
 * comma-separated names from `releases.experiments` in config (`dependency-latency, instance-kill`).
 * It replaces the plan's and the target's lists for this entity.
 */
export const RELEASE_PILOT_EXPERIMENTS_ANNOTATION = 'release-pilot.io/experiments';

/** Annotation naming the entity's Argo Rollout (the argo-rollouts module); the Releases tab shows it and acts on it. */
export const RELEASE_PILOT_ARGO_ROLLOUT_ANNOTATION = 'release-pilot.io/argo-rollout';

/** Optional: the namespace of the entity's Argo Rollout, when not the configured one (it must be allowed in config). */
export const RELEASE_PILOT_ARGO_ROLLOUT_NAMESPACE_ANNOTATION = 'release-pilot.io/argo-rollout-namespace';
