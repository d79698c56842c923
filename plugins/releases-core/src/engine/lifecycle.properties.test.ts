import { Release, ReleasePlan, VerdictOutcome } from '@release-pilot/plugin-releases-common';
import fc from 'fast-check';
import { makeRelease, makeStats, scriptedOptions, scriptedTick } from '../testUtils/fixtures';
import { EngineAction, EngineEvent, handleReleaseEvent } from './engine';
import { InvalidTransitionError } from './errors';

/**
 * The engine against a model of a target: a router's weight and two sides, each running a version
 * and ready or not. The test plays the driver: it performs the engine's actions on the model (a
 * deployer operation finishes, makes progress or fails when the random choice says so) and checks,
 * after every event, that no version serves live traffic before it is ready, and at the end that a
 * success leaves stable running the version at 100 % and a rollback the previous version at 100 %.
 */

interface Side {
  version: string;
  ready: boolean;
  up: boolean;
}

interface Model {
  weight: number;
  stable: Side;
  canary: Side;
}

const PREVIOUS = '1.0.0';

const planArb: fc.Arbitrary<ReleasePlan> = fc
  .record({
    weights: fc.subarray([5, 25, 50]),
    watchSeconds: fc.constantFrom(0, 30),
    warmUpSeconds: fc.constantFrom(0, 10),
  })
  .map(({ weights, watchSeconds, warmUpSeconds }) => ({
    name: 'any',
    steps: [...weights, 100].map(weight => ({ weight, minDurationSeconds: 10, minCanaryRequests: 0 })),
    watchSeconds,
    warmUpSeconds,
  }));

type Choice = { roll: number; seconds: number; outcome: VerdictOutcome; user: number };
const choicesArb = fc.array(
  fc.record({
    roll: fc.integer({ min: 0, max: 99 }),
    seconds: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.constant(700)),
    outcome: fc.constantFrom<VerdictOutcome>('pass', 'pass', 'pass', 'warn', 'fail', 'inconclusive'),
    user: fc.integer({ min: 0, max: 99 }),
  }),
  { minLength: 10, maxLength: 150 },
);

/** Live traffic reaches a side only when it is up, ready, and what the router says. */
function assertServesOnlyReady(model: Model, why: string) {
  if (model.weight > 0 && !(model.canary.up && model.canary.ready)) throw new Error(`${why}: the canary serves ${model.weight}% but is not ready`);
  if (model.weight < 100 && !model.stable.ready) throw new Error(`${why}: the stable side serves ${100 - model.weight}% but is not ready`);
}

function perform(model: Model, actions: EngineAction[], why: string) {
  for (const action of actions) {
    if (action.type === 'setCanaryWeight') model.weight = action.weight;
    assertServesOnlyReady(model, why);
  }
}

/** What the driver's deployer call does to the model, by the random roll: done, progress (the side not ready yet) or an error. */
function operate(model: Model, release: Release, roll: number): EngineEvent {
  const op = release.operation!;
  if (roll < 15) return { type: 'operation', error: 'deployer unreachable' };
  const sides = { deployCanary: model.canary, deployStable: model.stable, scaleDownCanary: undefined };
  const side = sides[op.kind];
  // A deploy takes the side out of service while it changes: it must carry no traffic then.
  if (side) {
    side.ready = false;
    const traffic = op.kind === 'deployCanary' ? model.weight : 100 - model.weight;
    if (traffic > 0) throw new Error(`${op.kind} while that side carries ${traffic}% of the traffic`);
  }
  if (op.kind === 'scaleDownCanary' && model.weight > 0) throw new Error(`scaling the canary down while it carries ${model.weight}%`);
  const done = roll >= 45;
  if (side) {
    side.version = op.version!;
    side.up = true;
    side.ready = done;
  } else if (done) model.canary.up = false;
  return {
    type: 'operation',
    status: { done, progress: done ? 'ready' : 'rolling out', sides: { stable: model.stable.version, canary: model.canary.version, canaryUp: model.canary.up } },
  };
}

function nextEvent(model: Model, release: Release, choice: Choice): EngineEvent {
  if (choice.user < 6) {
    const actions = ['pause', 'resume', 'promote', 'rollback'] as const;
    return { type: 'user', action: actions[choice.user % 4], actor: 'user:default/alice' };
  }
  switch (release.state) {
    case 'pending':
      return { type: 'start', canaryWeight: model.weight, sides: { stable: model.stable.version, canary: model.canary.version } };
    case 'deploying':
    case 'promoting':
      return operate(model, release, choice.roll);
    case 'rolling_back':
      if (release.operation) return operate(model, release, choice.roll);
      if (release.recovery?.restoredAt) {
        // The service since the rollback, healthy or still failing, against its level during the release.
        const window = choice.roll >= 30 ? makeStats(1_000, 0, 100) : makeStats(1_000, 300, 2_000);
        const before = [{ at: '', stepIndex: 0, canaryWeight: 10, canary: makeStats(100, 30, 2_000), baseline: makeStats(1_000, 0, 100) }];
        return { type: 'recoveryCheck', window, windowSeconds: 15, before };
      }
      if (choice.roll < 10) return { type: 'timer' };
      if (choice.roll < 20) return { type: 'weightApplied', weight: 0, error: 'router unreachable' };
      model.weight = 0;
      return { type: 'weightApplied', weight: 0 };
    default:
      return scriptedTick(choice.outcome, 50);
  }
}

function run(plan: ReleasePlan, choices: Choice[], initialWeight: number, failureLimit = 0) {
  const model: Model = {
    weight: initialWeight,
    stable: { version: PREVIOUS, ready: true, up: true },
    canary: { version: PREVIOUS, ready: true, up: true },
  };
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  let release = makeRelease({ plan, deployMode: 'deployer', previousVersion: PREVIOUS });
  let succeeded = false;
  let deployed = false;
  for (const choice of choices) {
    if (release.state === 'rolled_back' || release.state === 'failed') break;
    now += choice.seconds * 1000;
    const event = nextEvent(model, release, choice);
    let result;
    try {
      result = handleReleaseEvent(release, event, new Date(now), scriptedOptions({ maxConsecutiveProviderErrors: 5 }, { failureLimit }));
    } catch (error) {
      if (error instanceof InvalidTransitionError) continue;
      throw error;
    }
    const why = `${release.state} --${event.type}--> ${result.release.state}`;
    perform(model, result.actions, why);
    release = result.release;
    if (release.state === 'deploying') deployed = true;
    if (release.state === 'succeeded') {
      succeeded = true;
      // After a success, stable runs V at 100 %.
      expect({ stable: model.stable.version, weight: model.weight, canaryUp: model.canary.up }).toEqual({ stable: release.version, weight: 0, canaryUp: false });
    }
    if (release.state === 'rolled_back') {
      // After a rollback, stable runs the previous version at 100 %.
      expect({ stable: model.stable.version, weight: model.weight }).toEqual({ stable: PREVIOUS, weight: 0 });
      expect(model.stable.ready).toBe(true);
      // A release rolled back before it started touched nothing; any other leaves its canary scaled down.
      if (deployed) expect(model.canary.up).toBe(false);
    }
    if (release.state === 'running' || release.state === 'paused' || release.state === 'watching') {
      expect(model.canary.version).toBe(release.version);
    }
  }
  return { release, succeeded };
}

describe('the lifecycle against a model of the target, for any plan and any sequence of outcomes (fast-check)', () => {
  it('never lets a version serve before it is ready; a success leaves stable on V at 100 %, a rollback the previous version', () => {
    fc.assert(
      fc.property(planArb, choicesArb, fc.constantFrom(0, 0, 30), fc.constantFrom(0, 1), (plan, choices, weight, failureLimit) => {
        run(plan, choices, weight, failureLimit);
      }),
      { numRuns: 2000, seed: 20261204 },
    );
  });

  it('reaches both ends often enough to mean something', () => {
    const ends = { succeeded: 0, rolled_back: 0 };
    fc.assert(
      fc.property(planArb, choicesArb, (plan, choices) => {
        const { release, succeeded } = run(plan, choices, 0);
        if (succeeded) ends.succeeded++;
        if (release.state === 'rolled_back') ends.rolled_back++;
      }),
      { numRuns: 500, seed: 5 },
    );
    expect(ends.succeeded).toBeGreaterThan(25);
    expect(ends.rolled_back).toBeGreaterThan(100);
  });
});
