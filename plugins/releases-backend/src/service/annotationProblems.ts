import {
  RELEASE_PILOT_ANALYSIS_ANNOTATION,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import { annotationProblems, shown, targetAnnotationRules } from '@release-pilot/plugin-releases-node';
import { JudgeCatalog } from '../analysis/JudgeCatalog';
import { PlanCatalog } from '../engine/plans';
import { TargetRegistry } from '../driver/TargetRegistry';

/**
 * Each Release Pilot annotation of an entity that a release would be refused for, one sentence
 * each with the fix: a target, plan or analysis the backend does not have, a risk threshold that
 * is not a probability, and a value the target's providers would not put into a command, a query
 * or a URL (their annotation rules). The entity page shows them; a release start refuses them.
 */
export function entityAnnotationProblems(
  annotations: Record<string, string>,
  deps: { targets: TargetRegistry; plans: PlanCatalog; judges: JudgeCatalog },
): string[] {
  const problems: string[] = [];
  const check = (key: string, what: string, names: string[], configKey: string) => {
    const value = annotations[key];
    if (value !== undefined && !names.includes(value)) {
      problems.push(
        `${key}: ${shown(value)} is not a configured ${what} (known: ${names.join(', ') || 'none'}). Fix the annotation in catalog-info.yaml, or add ${configKey}.${value} to app-config.`,
      );
    }
  };
  check(RELEASE_PILOT_TARGET_ANNOTATION, 'target', deps.targets.names(), 'releases.targets');
  check(RELEASE_PILOT_PLAN_ANNOTATION, 'plan', deps.plans.list().plans.map(p => p.name), 'releases.plans');
  check(RELEASE_PILOT_ANALYSIS_ANNOTATION, 'analysis', deps.judges.names(), 'releases.analyses');
  const threshold = annotations['release-pilot.io/risk-threshold'];
  if (threshold !== undefined && !(Number(threshold) > 0 && Number(threshold) <= 1)) {
    problems.push(`release-pilot.io/risk-threshold: ${shown(threshold)} is not a probability; use a number above 0 and at most 1, e.g. '0.7'.`);
  }
  const target = deps.targets.find(annotations[RELEASE_PILOT_TARGET_ANNOTATION] ?? '');
  if (target) problems.push(...annotationProblems(annotations, targetAnnotationRules(target)));
  return problems;
}
