import {
  Release,
  ReleasePlan,
  RELEASE_ACTIONS,
  RELEASE_TRANSITIONS,
  VerdictOutcome,
} from '@release-pilot/plugin-releases-common';
import fc from 'fast-check';
import { makeRelease, scriptedOptions, scriptedOutcome, scriptedTick } from '../testUtils/fixtures';
import { EngineEvent, handleReleaseEvent } from './engine';
import { InvalidTransitionError } from './errors';

/** Any plan: rising weights ending at 100, durations, minimum requests, manual gates, a watch or none. */
const planArb: fc.Arbitrary<ReleasePlan> = fc
  .record({
    weights: fc.subarray([1, 2, 5, 10, 25, 50, 75]),
    durations: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 8, maxLength: 8 }),
    requests: fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 8, maxLength: 8 }),
    gates: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    watchSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 })),
    warmUpSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 })),
  })
  .map(({ weights, durations, requests, gates, watchSeconds, warmUpSeconds }) => ({
    name: 'any',
    steps: [...weights, 100].map((weight, i) => ({
      weight,
      minDurationSeconds: durations[i],
      minCanaryRequests: requests[i],
      ...(i > 0 && gates[i] ? { approval: true } : {}),
    })),
    watchSeconds,
    warmUpSeconds,
  }));

type Step = { seconds: number; event: EngineEvent };

const outcomes: VerdictOutcome[] = ['pass', 'warn', 'fail', 'inconclusive'];
const eventArb: fc.Arbitrary<EngineEvent> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<EngineEvent>({ type: 'start' }) },
  {
    weight: 8,
    arbitrary: fc
      .record({ outcome: fc.constantFrom(...outcomes), requests: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2000 })) })
      .map(({ outcome, requests }): EngineEvent => scriptedTick(outcome, requests)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...RELEASE_ACTIONS).map(action => ({ type: 'user', action, actor: 'user:default/alice' }) as EngineEvent),
  },
  { weight: 2, arbitrary: fc.constant<EngineEvent>({ type: 'providerError', error: 'metrics unavailable' }) },
  { weight: 1, arbitrary: fc.constant<EngineEvent>({ type: 'weightApplied', weight: 0 }) },
  { weight: 1, arbitrary: fc.constant<EngineEvent>({ type: 'weightApplied', weight: 0, error: 'router unreachable' }) },
  { weight: 1, arbitrary: fc.constant<EngineEvent>({ type: 'timer' }) },
);
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.record({ seconds: fc.integer({ min: 0, max: 20 }), event: eventArb }),
  { maxLength: 80 },
);

/** Any analysis limits: failures tolerated or not, an inconclusive limit or none. */
const limitsArb = fc.record({
  failureLimit: fc.integer({ min: 0, max: 2 }),
  inconclusiveLimit: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

/**
 * Runs the events through the engine (refused ones change nothing) and checks, after every accepted
 * event, the invariants a release must keep whatever happens.
 */
function check(plan: ReleasePlan, steps: Step[], maxErrors: number, limits: { failureLimit: number; inconclusiveLimit?: number }) {
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  let release: Release = makeRelease({ plan, createdAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString() });
  const weights = new Set([0, ...plan.steps.map(s => s.weight)]);
  for (const { seconds, event } of steps) {
    now += seconds * 1000;
    let result;
    try {
      result = handleReleaseEvent(release, event, new Date(now), scriptedOptions({ maxConsecutiveProviderErrors: maxErrors }, limits));
    } catch (error) {
      if (error instanceof InvalidTransitionError) continue;
      throw error;
    }
    const prev = release;
    const next = result.release;
    const why = `${prev.state} --${event.type}${event.type === 'user' ? `:${event.action}` : ''}--> ${next.state}`;

    // Only the transitions the table allows.
    expect([prev.state, ...RELEASE_TRANSITIONS[prev.state]]).toContain(next.state);
    // Never more traffic than the plan says at the step the release is on, and only the plan's weights.
    expect(weights.has(next.canaryWeight)).toBe(true);
    expect(next.canaryWeight).toBeLessThanOrEqual(plan.steps[next.currentStep].weight);
    for (const action of result.actions) {
      expect(action).toMatchObject({ type: 'setCanaryWeight', weight: next.canaryWeight });
    }
    if (next.state === 'rolling_back' || next.state === 'rolled_back') expect(next.canaryWeight).toBe(0);
    // Steps never go back, never repeat, and move one at a time unless a person promotes.
    expect(next.currentStep).toBeGreaterThanOrEqual(prev.currentStep);
    const promoted = event.type === 'user' && event.action === 'promote';
    if (!promoted) expect(next.currentStep - prev.currentStep).toBeLessThanOrEqual(1);
    // No promotion on missing data: leaving a step with traffic needs its minimum of measured canary requests.
    const left = next.currentStep > prev.currentStep || (prev.state === 'running' && (next.state === 'watching' || next.state === 'succeeded'));
    if (left && !promoted && !(event.type === 'user' && event.action === 'resume')) {
      const step = plan.steps[prev.currentStep];
      const measured = prev.stepCanaryRequests + (event.type === 'tick' ? event.sample.canary.requests : 0);
      expect(measured).toBeGreaterThanOrEqual(Math.max(step.minCanaryRequests, step.weight > 0 ? 1 : 0));
      expect(event.type === 'tick' && scriptedOutcome(event) !== 'fail').toBe(true);
    }
    // A warming canary's ticks change nothing but the provider error count and the shown verdict;
    // after it, a failing measurement past the failure limit rolls a running, paused or watched
    // release back, and one within it holds the release where it is.
    const warming = prev.state !== 'watching' && prev.warmUpUntil !== undefined && now <= Date.parse(prev.warmUpUntil);
    const unmeasured = (r: Release) => ({ ...r, consecutiveProviderErrors: 0, revision: 0, updatedAt: '', latestVerdict: undefined });
    if (event.type === 'tick' && warming) {
      expect(unmeasured(next)).toEqual(unmeasured(prev));
    } else if (scriptedOutcome(event) === 'fail') {
      const failed = (prev.measurements?.failed ?? 0) + 1;
      expect(next.measurements?.failed).toBe(failed);
      if (failed > limits.failureLimit) expect(next.state).toBe('rolling_back');
      else expect({ state: next.state, step: next.currentStep }).toEqual({ state: prev.state, step: prev.currentStep });
    }
    // Every change of state is on the timeline, and every change bumps the revision once.
    if (next.state !== prev.state) expect(result.records.length).toBeGreaterThan(0);
    if (next !== prev) expect(next.revision).toBe(prev.revision + 1);
    else expect(result.records).toEqual([]);
    // A rollback is never abandoned for a router error: it stays pending until applied.
    if (event.type === 'weightApplied' && event.error) expect(next.state).toBe('rolling_back');
    // Finished releases accept nothing but a person's rollback of a success.
    if (prev.state === 'rolled_back' || prev.state === 'failed') throw new Error(`${why} was accepted`);
    if (prev.state === 'succeeded') expect(event).toMatchObject({ type: 'user', action: 'rollback' });
    release = next;
  }
}

describe('the engine, for any sequence of events and actions (fast-check)', () => {
  it('keeps its invariants: allowed transitions, weights within the plan, no step twice, no promotion on missing data, nothing unrecorded', () => {
    fc.assert(
      fc.property(planArb, stepsArb, fc.integer({ min: 1, max: 12 }), limitsArb, (plan, steps, maxErrors, limits) => {
        check(plan, steps, maxErrors, limits);
      }),
      { numRuns: 3000, seed: 20261127 },
    );
  });

  it('reaches a success only through every step in order when nobody intervenes', () => {
    fc.assert(
      fc.property(planArb, fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 400, maxLength: 400 }), (plan, gaps) => {
        let now = Date.parse('2026-01-01T00:00:00.000Z');
        const options = scriptedOptions();
        let release = handleReleaseEvent(makeRelease({ plan }), { type: 'start' }, new Date(now), options).release;
        const entered = [0];
        for (const gap of gaps) {
          if (release.state !== 'running' && release.state !== 'watching' && release.state !== 'paused') break;
          now += gap * 1000;
          const event: EngineEvent =
            release.state === 'paused'
              ? { type: 'user', action: 'resume', actor: 'user:default/alice' }
              : scriptedTick('pass', gap * 20);
          release = handleReleaseEvent(release, event, new Date(now), options).release;
          if (release.currentStep !== entered[entered.length - 1]) entered.push(release.currentStep);
        }
        expect(entered).toEqual(plan.steps.slice(0, entered.length).map((_, i) => i));
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
