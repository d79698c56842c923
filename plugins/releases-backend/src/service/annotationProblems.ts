import {
  RELEASE_PILOT_ANALYSIS_ANNOTATION,
  RELEASE_PILOT_JUDGE_ANNOTATION,
  RELEASE_PILOT_ANNOTATION_PREFIX,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_REGIONS_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import {
  allowedValue,
  annotationClaims,
  annotationProblems,
  entityPlaceholders,
  fillPlaceholders,
  ReleaseTarget,
  shown,
  targetAnnotationRules,
} from '@release-pilot/plugin-releases-node';
import { JudgeCatalog, PlanCatalog } from '@release-pilot/plugin-releases-core';
import { TargetRegistry } from '../driver/TargetRegistry';
import { regionsOf } from './regionRelease';

/**
 * Each Release Pilot annotation of an entity that a release would be refused for, one sentence
 * each with the fix: a target, plan or analysis the backend does not have, a risk threshold that
 * is not a probability, and a value the target's providers would not put into a command, a query
 * or a URL (their annotation rules). The entity page shows them; a release start refuses them.
 */
export function entityAnnotationProblems(
  entityRef: string,
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
  check(RELEASE_PILOT_JUDGE_ANNOTATION, 'judge', deps.judges.names(), 'releases.judges');
  check(RELEASE_PILOT_ANALYSIS_ANNOTATION, 'judge', deps.judges.names(), 'releases.judges');
  const threshold = annotations['release-pilot.io/risk-threshold'];
  if (threshold !== undefined && !(Number(threshold) > 0 && Number(threshold) <= 1)) {
    problems.push(`release-pilot.io/risk-threshold: ${shown(threshold)} is not a probability; use a number above 0 and at most 1, e.g. '0.7'.`);
  }
  const target = deps.targets.find(annotations[RELEASE_PILOT_TARGET_ANNOTATION] ?? '');
  if (target) problems.push(...annotationProblems(annotations, targetAnnotationRules(target)), ...disallowedAnnotations(entityRef, annotations, target));
  problems.push(...regionAnnotationProblems(entityRef, annotations, target));
  return problems;
}

/**
 * A region's part is not a target of its own to annotate (a release of it would leave the other
 * regions behind), and `release-pilot.io/regions` must name regions of the entity's target.
 */
export function regionAnnotationProblems(entityRef: string, annotations: Record<string, string>, target: ReleaseTarget | undefined): string[] {
  const name = annotations[RELEASE_PILOT_TARGET_ANNOTATION] ?? '';
  const slash = name.indexOf('/');
  if (slash > 0) {
    return [`${RELEASE_PILOT_TARGET_ANNOTATION}: ${shown(name)} is one region of target ${shown(name.slice(0, slash))}; annotate the target and narrow it with ${RELEASE_PILOT_REGIONS_ANNOTATION}: ${shown(name.slice(slash + 1))}.`];
  }
  if (annotations[RELEASE_PILOT_REGIONS_ANNOTATION] === undefined || !target) return [];
  if (!target.regions) return [`${RELEASE_PILOT_REGIONS_ANNOTATION}: target '${target.name}' does not span regions; remove the annotation.`];
  try {
    regionsOf(entityRef, target, annotations);
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/**
 * The annotations a target's providers read that the target does not let this entity set: only
 * values matching the target's `allow` patterns are the entity's to choose; without patterns the
 * target's own config decides. So an entity's owner cannot point its releases at another entity's
 * backend, route or metrics by annotation.
 */
export function disallowedAnnotations(entityRef: string, annotations: Record<string, string>, target: ReleaseTarget): string[] {
  const readable = [...new Set(targetAnnotationRules(target).map(r => r.annotation))];
  const problems: string[] = [];
  for (const annotation of readable) {
    const value = annotations[annotation];
    if (value === undefined) continue;
    const patterns = target.allow?.[annotation];
    const key = `releases.targets.${target.name}.allow.${annotation.replace(RELEASE_PILOT_ANNOTATION_PREFIX, '')}`;
    if (!patterns) {
      problems.push(`${annotation}: target '${target.name}' does not let entities set it; its own config decides (${key} lists the values an entity may set).`);
    } else if (!allowedValue(fillPlaceholders(value, entityPlaceholders(entityRef)), patterns, entityRef)) {
      problems.push(`${annotation}: ${shown(value)} is not a value target '${target.name}' allows ${entityRef} (allowed: ${patterns.join(', ')}).`);
    }
  }
  return problems;
}

/**
 * Another entity of the same target whose annotations (or the target's defaults) resolve to the
 * same backend, route or selector as this entity's: each such clash, naming the other entity. What
 * the target's defaults give an entity (its own name filled in) is its own: an entity that only
 * has its defaults never clashes with one that annotates its way onto them; that one does.
 */
export function claimConflicts(
  entityRef: string,
  annotations: Record<string, string>,
  target: ReleaseTarget,
  others: Array<{ entityRef: string; annotations: Record<string, string> }>,
): string[] {
  const rules = targetAnnotationRules(target);
  const mine = annotationClaims(annotations, rules, entityRef);
  const conflicts: string[] = [];
  for (const other of others) {
    if (other.entityRef === entityRef) continue;
    const theirs = annotationClaims(other.annotations, rules, other.entityRef);
    for (const [claim, { value, byDefault }] of mine) {
      const their = theirs.get(claim);
      if (their?.value === value && (their.byDefault || !byDefault)) {
        conflicts.push(`${value} is what ${other.entityRef} resolves to on target '${target.name}'`);
      }
    }
  }
  return conflicts;
}
