import {
  RELEASE_PILOT_ANALYSIS_ANNOTATION,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';

/** What the backend knows an entity's annotations may name (`GET /targets`). */
export interface KnownNames {
  targets: string[];
  analyses: string[];
  plans: string[];
}

/** Each Release Pilot annotation of an entity that the backend would refuse: the key, the problem and the fix. */
export function annotationProblems(annotations: Record<string, string>, known: KnownNames): string[] {
  const problems: string[] = [];
  const check = (key: string, what: string, names: string[], configKey: string) => {
    const value = annotations[key];
    if (value !== undefined && !names.includes(value)) {
      problems.push(
        `${key}: '${value}' is not a configured ${what} (known: ${names.join(', ') || 'none'}). Fix the annotation in catalog-info.yaml, or add ${configKey}.${value} to app-config.`,
      );
    }
  };
  check(RELEASE_PILOT_TARGET_ANNOTATION, 'target', known.targets, 'releases.targets');
  check(RELEASE_PILOT_PLAN_ANNOTATION, 'plan', known.plans, 'releases.plans');
  check(RELEASE_PILOT_ANALYSIS_ANNOTATION, 'analysis', known.analyses, 'releases.analyses');
  const threshold = annotations['release-pilot.io/risk-threshold'];
  if (threshold !== undefined && !(Number(threshold) > 0 && Number(threshold) <= 1)) {
    problems.push(`release-pilot.io/risk-threshold: '${threshold}' is not a probability; use a number above 0 and at most 1, e.g. '0.7'.`);
  }
  return problems;
}
