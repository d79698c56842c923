/**
 * Values from outside config (an entity's annotation, its name, a release's version) are checked
 * against a strict rule before a provider puts them into a command, a query or a URL: a name that
 * carries a `;`, a newline or a quote never reaches HAProxy's runtime API, PromQL or a Kubernetes
 * path. Providers declare the rule of each annotation they read; the backend checks an entity's
 * annotations against them when a release starts (400) and shows the problems on the entity page,
 * and the provider checks the filled-in value again right before it uses it.
 */

/** How a value must look. */
export interface ValueRule {
  /** A valid value in words, for the error: "letters, digits and . _ - :, 1 to 64 characters". */
  expected: string;
  test(value: string): boolean;
}

/** A rule from an anchored pattern. */
export function patternRule(pattern: RegExp, expected: string): ValueRule {
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$')) {
    throw new Error(`A value rule's pattern must be anchored: ${pattern}`);
  }
  return { expected, test: value => pattern.test(value) };
}

/** A rule for a comma-separated list of values that each follow `item`, at most `max` of them. */
export function listRule(item: ValueRule, max: number): ValueRule {
  return {
    expected: `a comma-separated list of at most ${max} values, each ${item.expected}`,
    test: value => {
      const items = value.split(',').map(s => s.trim());
      return items.length <= max && items.every(i => item.test(i));
    },
  };
}

/** A provider's rule for an entity annotation it reads. */
export interface AnnotationRule {
  annotation: string;
  rule: ValueRule;
  /** The target's own value (a template) for entities without the annotation. */
  default?: string;
  /**
   * The annotation names the entity's own traffic or metrics (a backend, a route, a selector): no
   * two entities of a target may resolve to the same value. Annotations with the same claim are
   * one resource together (a namespace and a route).
   */
  claim?: string;
}

/** The `${entityName}`, `${namespace}` and `${kind}` of an entity ref (and `${version}` when given). */
export function entityPlaceholders(entityRef: string, version?: string): Record<string, string> {
  const match = /^([^:]+):([^/]+)\/(.+)$/.exec(entityRef);
  return {
    kind: match?.[1] ?? 'component',
    namespace: match?.[2] ?? 'default',
    entityName: match?.[3] ?? entityRef,
    ...(version === undefined ? {} : { version }),
  };
}

/**
 * Whether a target allows an entity an annotation's value: it matches one of the patterns, whose
 * `${entityName}`, `${namespace}` and `${kind}` are the entity's and whose `*` stands for any run of
 * letters, digits and `. _ -`.
 */
export function allowedValue(value: string, patterns: readonly string[], entityRef: string): boolean {
  const placeholders = entityPlaceholders(entityRef);
  const escape = (text: string) => text.replace(/[.+?^$()|[\]\\{}]/g, '\\$&');
  return patterns.some(pattern => {
    const filled = fillPlaceholders(pattern, placeholders);
    const source = filled.split('*').map(escape).join('[A-Za-z0-9._-]*');
    return new RegExp(`^${source}$`).test(value);
  });
}

/** What an entity resolves to for one claim, and whether only the target's defaults put it there. */
export interface AnnotationClaim {
  value: string;
  byDefault: boolean;
}

/** What an entity's annotations (or the target's defaults) claim: claim name → the value(s) it resolves to. */
export function annotationClaims(annotations: Record<string, string>, rules: readonly AnnotationRule[], entityRef: string): Map<string, AnnotationClaim> {
  const placeholders = entityPlaceholders(entityRef);
  const parts = new Map<string, { values: string[]; byDefault: boolean }>();
  for (const rule of rules) {
    if (!rule.claim) continue;
    const annotated = annotations[rule.annotation];
    const value = annotated ?? rule.default;
    if (value === undefined) continue;
    const part = parts.get(rule.claim) ?? { values: [], byDefault: true };
    part.values.push(`${rule.annotation}=${fillPlaceholders(value, placeholders)}`);
    part.byDefault &&= annotated === undefined;
    parts.set(rule.claim, part);
  }
  return new Map([...parts].map(([claim, { values, byDefault }]) => [claim, { value: [...new Set(values)].sort().join(' '), byDefault }]));
}

/** The placeholders providers fill in, with valid stand-ins for checking an annotation before a release has them. */
const STAND_INS: Record<string, string> = { entityName: 'entity', kind: 'component', namespace: 'default', version: '1.0.0' };

/** `${placeholder}`s filled in with `values` (unknown ones are left as they are, and so fail a strict rule). */
export function fillPlaceholders(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
}

/** A value shown in an error: quoted, control characters escaped, cut at 80 characters. */
export function shown(value: string): string {
  const escaped = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `'${escaped.slice(1, -1)}'`;
}

/** What is wrong with an entity's annotations under the rules, one sentence each (none: fine). */
export function annotationProblems(annotations: Record<string, string>, rules: readonly AnnotationRule[]): string[] {
  const problems: string[] = [];
  for (const { annotation, rule } of rules) {
    const value = annotations[annotation];
    if (value === undefined) continue;
    if (!rule.test(fillPlaceholders(value, STAND_INS))) {
      problems.push(`${annotation}: ${shown(value)} is not allowed; use ${rule.expected}.`);
    }
  }
  return problems;
}

/** A value from outside config that a provider refused to use. */
export class InvalidValueError extends Error {
  readonly name = 'InvalidValueError';
}

/** A value a provider is about to use, checked: returned as it is, or refused with what was expected. */
export function checkedValue(value: string, rule: ValueRule, what: string): string {
  if (!rule.test(value)) throw new InvalidValueError(`${what} ${shown(value)} is not allowed; it must be ${rule.expected}`);
  return value;
}
