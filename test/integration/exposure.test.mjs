// The stack's exposure counter (stack/exposure.mjs) against synthetic traffic: zero for a release
// that keeps to its plan, and above zero for each way of breaking it (a router that gives the canary
// more than the step's weight, a deployer that puts the version on the stable side before it is
// judged, a canary that takes traffic before its first step, a rollback that leaves it serving).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposureBeyondPlan } from './stack/exposure.mjs';

const T0 = Date.parse('2026-12-05T12:00:00.000Z');
const s = seconds => T0 + seconds * 1000;
const plan = { steps: [{ weight: 10 }, { weight: 50 }, { weight: 100 }] };

/** A release of 2.0.0 over 1.9.0: deployed at 0 s, steps at 2, 6 and 10 s; promoted at 14 s, or rolled back at 8 s. */
function release(outcome) {
  const events = [
    ['deploy_started', 0], ['canary_deployed', 2], ['started', 2, { weight: 10 }], ['step_advanced', 6, { weight: 50 }],
    ...(outcome === 'succeeded'
      ? [['step_advanced', 10, { weight: 100 }], ['promotion_started', 14], ['stable_deployed', 16], ['succeeded', 17]]
      : [['rollback_started', 8], ['traffic_restored', 8.05], ['rolled_back', 9]]),
  ];
  return { version: '2.0.0', state: outcome, plan, timeline: events.map(([type, at, data]) => ({ type, at: new Date(s(at)).toISOString(), data })) };
}

/**
 * 200 requests/s for 20 s, each to the canary with the share `canaryShare(t)` (HAProxy's weighted
 * round robin: exact shares), and HAProxy's weights read every 100 ms. `canaryVersion(t)` and
 * `stableVersion(t)` say what each side runs.
 */
function traffic({ canaryShare, canaryVersion = () => '2.0.0', stableVersion = () => '1.9.0' }) {
  const answers = [];
  const weights = [];
  let owed = 0;
  for (let ms = 0; ms < 20_000; ms += 5) {
    const t = T0 + ms;
    owed += canaryShare(t);
    const toCanary = owed >= 1;
    if (toCanary) owed -= 1;
    answers.push({ sentAt: t, servedBy: toCanary ? 'canary' : 'stable', version: toCanary ? canaryVersion(t) : stableVersion(t) });
    if (ms % 100 === 0) weights.push({ at: t + 2, canary: Math.round(200 * canaryShare(t)), stable: Math.round(200 * (1 - canaryShare(t))) });
  }
  return { answers, weights };
}

/** The share each moment's plan gives the canary. */
const planned = outcome => t => {
  if (t < s(2)) return 0;
  if (t < s(6)) return 0.1;
  if (outcome === 'rolled_back') return t < s(8.02) ? 0.5 : 0;
  if (t < s(10)) return 0.5;
  if (t < s(16)) return 1;
  return 0;
};
const afterPromotion = t => (t >= s(16) ? '2.0.0' : '1.9.0');

const zero = { beyondPlan: 0, fromStable: 0, readingsAbovePlan: 0, afterRollback: 0 };
const figures = r => ({ beyondPlan: r.beyondPlan, fromStable: r.fromStable, readingsAbovePlan: r.readingsAbovePlan, afterRollback: r.afterRollback });

test('a release that keeps to its plan exposes nothing beyond it', () => {
  const succeeded = exposureBeyondPlan({ releases: [release('succeeded')], ...traffic({ canaryShare: planned('succeeded'), stableVersion: afterPromotion }) });
  assert.deepEqual(figures(succeeded), zero);
  assert.ok(succeeded.answersChecked > 1000 && succeeded.bins >= 10 && succeeded.readingsChecked >= 130, JSON.stringify(succeeded));
  const rolledBack = exposureBeyondPlan({ releases: [release('rolled_back')], ...traffic({ canaryShare: planned('rolled_back') }) });
  assert.deepEqual(figures(rolledBack), zero);
});

test('a router that gives the canary 50 % during its 10 % step is caught by the answers and by the readings', () => {
  const broken = t => (t >= s(3) && t < s(4.5) ? 0.5 : planned('succeeded')(t));
  const r = exposureBeyondPlan({ releases: [release('succeeded')], ...traffic({ canaryShare: broken, stableVersion: afterPromotion }) });
  assert.ok(r.beyondPlan >= 100, JSON.stringify(r));
  assert.ok(r.readingsAbovePlan >= 10, JSON.stringify(r));
  assert.match(r.examples[0], /^2\.0\.0: \d+ of \d+ answers in the second from 2026-12-05T12:00:03\.000Z, plan 10%$/);
});

test('a deployer that puts the version on the stable side before it is judged is caught', () => {
  const early = t => (t >= s(7) ? '2.0.0' : '1.9.0');
  const r = exposureBeyondPlan({ releases: [release('succeeded')], ...traffic({ canaryShare: planned('succeeded'), stableVersion: early }) });
  // From 7 s to the 100 % step at 10 s, half the answers came from the stable side, which ran 2.0.0.
  assert.ok(r.fromStable >= 290 && r.beyondPlan >= 290, JSON.stringify(r));
});

test('a canary that takes traffic before its first step, or after its rollback, is caught', () => {
  const beforeStart = t => (t >= s(1) && t < s(2) ? 0.1 : planned('succeeded')(t));
  assert.ok(exposureBeyondPlan({ releases: [release('succeeded')], ...traffic({ canaryShare: beforeStart, stableVersion: afterPromotion }) }).beyondPlan >= 19);
  const lingering = t => (t >= s(8.02) && t < s(9) ? 0.5 : planned('rolled_back')(t));
  const r = exposureBeyondPlan({ releases: [release('rolled_back')], ...traffic({ canaryShare: lingering }) });
  assert.ok(r.afterRollback >= 90, JSON.stringify(r));
});
