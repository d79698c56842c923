import { annotationProblems } from './annotationProblems';

const known = { targets: ['simulator', 'vm'], analyses: ['strict'], plans: ['default', 'careful'] };

describe('annotationProblems', () => {
  it('names each annotation the backend would refuse, with the known names and the fix', () => {
    expect(
      annotationProblems(
        { 'release-pilot.io/target': 'k8s', 'release-pilot.io/plan': 'yolo', 'release-pilot.io/analysis': 'strict', 'release-pilot.io/risk-threshold': '85%' },
        known,
      ),
    ).toEqual([
      "release-pilot.io/target: 'k8s' is not a configured target (known: simulator, vm). Fix the annotation in catalog-info.yaml, or add releases.targets.k8s to app-config.",
      "release-pilot.io/plan: 'yolo' is not a configured plan (known: default, careful). Fix the annotation in catalog-info.yaml, or add releases.plans.yolo to app-config.",
      "release-pilot.io/risk-threshold: '85%' is not a probability; use a number above 0 and at most 1, e.g. '0.7'.",
    ]);
  });

  it('finds nothing wrong with known names and a valid threshold', () => {
    expect(annotationProblems({ 'release-pilot.io/target': 'vm', 'release-pilot.io/risk-threshold': '0.7' }, known)).toEqual([]);
  });
});
