import {
  ReleaseAction,
  ReleaseState,
  RELEASE_STATES,
  RELEASE_TRANSITIONS,
} from '@release-pilot/plugin-releases-common';
import { makeRelease, scriptedOptions, scriptedTick, THREE_STEP_PLAN } from '../testUtils/fixtures';
import { VirtualClock } from './clock';
import { EngineEvent, EngineOptions, handleReleaseEvent as engine } from './engine';
import { InvalidTransitionError } from './errors';

const clock = new VirtualClock('2026-01-01T00:00:00.000Z');

function running(overrides = {}) {
  return makeRelease({
    state: 'running',
    canaryWeight: 10,
    stepStartedAt: clock.now().toISOString(),
    ...overrides,
  });
}

const tick = scriptedTick;

/** The engine with the scripted analysis: a tick's outcome is what the test says. */
function handleReleaseEvent(release: Parameters<typeof engine>[0], event: EngineEvent, now: Date, options: Partial<EngineOptions> = {}) {
  return engine(release, event, now, scriptedOptions(options));
}

const ROLLBACK_WEIGHT = { type: 'setCanaryWeight', weight: 0, report: true };

const user = (action: ReleaseAction, reason?: string): EngineEvent => ({
  type: 'user',
  action,
  actor: 'user:default/alice',
  reason,
});

describe('handleReleaseEvent', () => {
  it('starts a pending release at the first step weight', () => {
    const { release, actions, records } = handleReleaseEvent(makeRelease(), { type: 'start' }, clock.now());
    expect(release.state).toBe('running');
    expect(release.canaryWeight).toBe(10);
    expect(release.stepStartedAt).toBe(clock.now().toISOString());
    expect(release.revision).toBe(1);
    expect(actions).toEqual([{ type: 'setCanaryWeight', weight: 10 }]);
    expect(records[0].type).toBe('started');
  });

  it('holds a step until both its duration and its canary requests are reached', () => {
    const start = running();
    const early = handleReleaseEvent(start, tick('pass', 500), new Date(clock.now().getTime() + 5000));
    expect(early.release.currentStep).toBe(0);
    expect(early.release.stepCanaryRequests).toBe(500);
    expect(early.actions).toEqual([]);

    const fewRequests = handleReleaseEvent(running(), tick('pass', 50), new Date(clock.now().getTime() + 20000));
    expect(fewRequests.release.currentStep).toBe(0);

    const done = handleReleaseEvent(early.release, tick('pass', 10), new Date(clock.now().getTime() + 10000));
    expect(done.release.currentStep).toBe(1);
    expect(done.release.canaryWeight).toBe(50);
    expect(done.release.stepCanaryRequests).toBe(0);
    expect(done.actions).toEqual([{ type: 'setCanaryWeight', weight: 50 }]);
    expect(done.records[0].message).toMatch(/Advance canary weight 50%/);
  });

  it('treats an inconclusive verdict as no reason to stop, but the step still needs its requests', () => {
    const result = handleReleaseEvent(running(), tick('inconclusive', 0), new Date(clock.now().getTime() + 60000));
    expect(result.release.state).toBe('running');
    expect(result.release.currentStep).toBe(0);
  });

  it('never finishes a step without a single canary request measured, even when the plan asks for none', () => {
    const noMinimum = running({ plan: { ...THREE_STEP_PLAN, steps: THREE_STEP_PLAN.steps.map(st => ({ ...st, minCanaryRequests: 0 })) } });
    const later = new Date(clock.now().getTime() + 60000);
    expect(handleReleaseEvent(noMinimum, tick('inconclusive', 0), later).release.currentStep).toBe(0);
    expect(handleReleaseEvent(noMinimum, tick('pass', 1), later).release.currentStep).toBe(1);
  });

  describe('the canary warm-up', () => {
    const at = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);
    const warmed = () => handleReleaseEvent(makeRelease({ plan: { ...THREE_STEP_PLAN, warmUpSeconds: 30 } }), { type: 'start' }, clock.now());

    it('starts with a warm-up that ends warmUpSeconds later, and says so on the timeline', () => {
      const { release, records } = warmed();
      expect(release.warmUpUntil).toBe(at(30).toISOString());
      expect(records[0].message).toMatch(/first 30 s are a warm-up, not judged/);
      expect(handleReleaseEvent(makeRelease(), { type: 'start' }, clock.now()).release.warmUpUntil).toBeUndefined();
    });

    it('neither rolls back, pauses, advances nor counts requests while the canary warms up', () => {
      const { release } = warmed();
      for (const outcome of ['fail', 'warn', 'pass'] as const) {
        const result = handleReleaseEvent(release, tick(outcome, 500), at(29));
        expect(result.release).toMatchObject({ state: 'running', currentStep: 0, stepCanaryRequests: 0 });
        expect(result.actions).toEqual([]);
        expect(result.records).toEqual([]);
      }
    });

    it('judges from the end of the warm-up on', () => {
      const { release } = warmed();
      expect(handleReleaseEvent(release, tick('fail', 500), at(30)).release.state).toBe('running');
      expect(handleReleaseEvent(release, tick('fail', 500), at(31)).release.state).toBe('rolling_back');
      const counted = handleReleaseEvent(release, tick('pass', 500), at(31)).release;
      expect(counted).toMatchObject({ currentStep: 1, stepCanaryRequests: 0 });
    });

    it('ends when a person promotes', () => {
      const promoted = handleReleaseEvent(warmed().release, user('promote'), at(5)).release;
      expect(promoted.warmUpUntil).toBeUndefined();
      expect(handleReleaseEvent(promoted, tick('fail', 500), at(6)).release.state).toBe('rolling_back');
    });
  });

  describe('the post-release watch', () => {
    const watchedPlan = { ...THREE_STEP_PLAN, watchSeconds: 120 };
    const atLastStep = () => running({ plan: watchedPlan, currentStep: 2, canaryWeight: 100, stepCanaryRequests: 100, judgeState: { canary: 1 } });
    const after = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);

    it('begins after the last step when the plan has one, keeping the weight and dropping the canary judge\'s state', () => {
      const { release, actions, records } = handleReleaseEvent(atLastStep(), tick('inconclusive', 10), after(10));
      expect(release).toMatchObject({ state: 'watching', watchStartedAt: after(10).toISOString(), canaryWeight: 100, judgeState: undefined });
      expect(actions).toEqual([]);
      expect(records[0]).toMatchObject({ type: 'watch_started', message: expect.stringMatching(/for 120 s$/) });
    });

    it('succeeds when the watch is over, rolls back on a fail, and alerts once on a warn', () => {
      const watching = handleReleaseEvent(atLastStep(), tick('inconclusive', 10), after(10)).release;
      expect(handleReleaseEvent(watching, tick('pass', 10), after(60)).release.state).toBe('watching');
      expect(handleReleaseEvent(watching, tick('pass', 10), after(130)).release.state).toBe('succeeded');

      const failed = handleReleaseEvent(watching, tick('fail', 10), after(30));
      expect(failed.release).toMatchObject({ state: 'rolling_back', canaryWeight: 0, reason: 'post-release watch: judge said fail' });
      expect(failed.actions).toEqual([ROLLBACK_WEIGHT]);

      const alerted = handleReleaseEvent(watching, tick('warn', 10), after(30));
      expect(alerted.release).toMatchObject({ state: 'watching', reason: 'Watch alert: judge said warn' });
      expect(alerted.records.map(r => r.type)).toEqual(['watch_alert']);
      expect(handleReleaseEvent(alerted.release, tick('warn', 10), after(31)).records).toEqual([]);
    });

    it('ends early on promote, and rolls back on a person\'s request', () => {
      const watching = handleReleaseEvent(atLastStep(), tick('inconclusive', 10), after(10)).release;
      const promoted = handleReleaseEvent(watching, user('promote', 'looks fine'), after(20));
      expect(promoted.release.state).toBe('succeeded');
      expect(promoted.records.map(r => r.type)).toEqual(['promoted', 'succeeded']);
      expect(handleReleaseEvent(watching, user('rollback'), after(20)).release.state).toBe('rolling_back');
      expect(() => handleReleaseEvent(watching, user('pause'), after(20))).toThrow(InvalidTransitionError);
    });
  });

  it('succeeds after the last step', () => {
    const last = running({ currentStep: 2, canaryWeight: 100, stepCanaryRequests: 100 });
    const result = handleReleaseEvent(last, tick('pass', 1), new Date(clock.now().getTime() + 10000));
    expect(result.release.state).toBe('succeeded');
    expect(result.release.finishedAt).toBeDefined();
    expect(result.records[0].type).toBe('succeeded');
  });

  it('rolls back on a failing verdict, setting weight 0 and keeping the reason', () => {
    const result = handleReleaseEvent(running(), tick('fail'), clock.now());
    expect(result.release.state).toBe('rolling_back');
    expect(result.release.canaryWeight).toBe(0);
    expect(result.release.reason).toBe('judge said fail');
    expect(result.actions).toEqual([ROLLBACK_WEIGHT]);
    const done = handleReleaseEvent(result.release, { type: 'weightApplied', weight: 0 }, clock.now());
    expect(done.release.state).toBe('rolled_back');
    expect(done.records[0].message).toContain('judge said fail');
  });

  it('pauses on a warning and waits for a person; a paused release still rolls back on failure', () => {
    const paused = handleReleaseEvent(running(), tick('warn'), clock.now()).release;
    expect(paused.state).toBe('paused');
    expect(paused.reason).toBe('judge said warn');
    const stillPaused = handleReleaseEvent(paused, tick('pass', 1000), new Date(clock.now().getTime() + 60000));
    expect(stillPaused.release.state).toBe('paused');
    expect(stillPaused.release.currentStep).toBe(0);
    expect(handleReleaseEvent(paused, tick('fail'), clock.now()).release.state).toBe('rolling_back');
  });

  it('resumes with a fresh step clock', () => {
    const paused = running({ state: 'paused', stepStartedAt: '2025-12-31T00:00:00.000Z' });
    const later = new Date(clock.now().getTime() + 3000);
    const resumed = handleReleaseEvent(paused, user('resume'), later);
    expect(resumed.release.state).toBe('running');
    expect(resumed.release.stepStartedAt).toBe(later.toISOString());
  });

  it('promotes straight to the last step', () => {
    const result = handleReleaseEvent(running(), user('promote', 'hotfix'), clock.now());
    expect(result.release.state).toBe('running');
    expect(result.release.currentStep).toBe(2);
    expect(result.release.canaryWeight).toBe(100);
    expect(result.actions).toEqual([{ type: 'setCanaryWeight', weight: 100 }]);
    expect(result.records[0].message).toContain('hotfix');
  });

  it('rolls back on request with the person and the reason', () => {
    const result = handleReleaseEvent(running(), user('rollback', 'customers complain'), clock.now());
    expect(result.release.state).toBe('rolling_back');
    expect(result.release.reason).toBe('requested by user:default/alice: customers complain');
  });

  it('rolls back after too many provider errors in a row, and a tick resets the count', () => {
    let release = running();
    for (let i = 1; i < 3; i++) {
      release = handleReleaseEvent(release, { type: 'providerError', error: 'timeout' }, clock.now(), { maxConsecutiveProviderErrors: 3 }).release;
      expect(release.state).toBe('running');
      expect(release.consecutiveProviderErrors).toBe(i);
    }
    expect(handleReleaseEvent(release, tick('pass'), clock.now()).release.consecutiveProviderErrors).toBe(0);
    const third = handleReleaseEvent(release, { type: 'providerError', error: 'timeout' }, clock.now(), { maxConsecutiveProviderErrors: 3 });
    expect(third.release.state).toBe('rolling_back');
    expect(third.release.reason).toMatch(/3 provider errors in a row, last: timeout/);
  });

  it('retries a failed rollback for as long as it takes, saying since when, and clears that once applied', () => {
    let release = running({ state: 'rolling_back', canaryWeight: 0, reason: 'bad' });
    const options = { maxConsecutiveProviderErrors: 2 };
    const firstAt = clock.now();
    const first = handleReleaseEvent(release, { type: 'weightApplied', weight: 0, error: 'router down' }, firstAt, options);
    expect(first.release).toMatchObject({ state: 'rolling_back', routerErrorSince: firstAt.toISOString(), routerError: 'router down', reason: 'bad' });
    // Asked again by the timer, with backoff: not before a second has passed, then at once.
    expect(first.actions).toEqual([]);
    expect(first.records.map(r => r.type)).toEqual(['rollback_pending']);
    release = first.release;
    for (let i = 2; i <= 20; i++) {
      const next = handleReleaseEvent(release, { type: 'weightApplied', weight: 0, error: `still down ${i}` }, clock.advance(5), options);
      expect(next.release).toMatchObject({ state: 'rolling_back', routerErrorSince: firstAt.toISOString(), routerError: `still down ${i}`, consecutiveProviderErrors: i });
      expect(next.records[0].type).toBe('provider_error');
      release = next.release;
    }
    const applied = handleReleaseEvent(release, { type: 'weightApplied', weight: 0 }, clock.advance(5), options);
    expect(applied.release).toMatchObject({ state: 'rolled_back', consecutiveProviderErrors: 0, routerErrorSince: undefined, routerError: undefined });
  });

  it('asks the router again for a refused rollback with backoff: 1, 2, 4 ... 60 s after the last refusal', () => {
    const refusedAt = new Date('2026-01-01T00:00:00.000Z');
    let release = handleReleaseEvent(running({ state: 'rolling_back', canaryWeight: 0 }), { type: 'weightApplied', weight: 0, error: 'down' }, refusedAt).release;
    const after = (ms: number) => new Date(Date.parse(release.updatedAt) + ms);
    for (const seconds of [1, 2, 4, 8, 16, 32, 60, 60]) {
      expect(handleReleaseEvent(release, { type: 'timer' }, after(seconds * 1000 - 1))).toMatchObject({ release, actions: [], records: [] });
      expect(handleReleaseEvent(release, { type: 'timer' }, after(seconds * 1000)).actions).toEqual([ROLLBACK_WEIGHT]);
      release = handleReleaseEvent(release, { type: 'weightApplied', weight: 0, error: 'down' }, after(seconds * 1000)).release;
    }
  });

  describe('the analysis limits, the same for every judge (Argo Rollouts\' failureLimit, inconclusiveLimit, consecutiveErrorLimit)', () => {
    const later = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);

    it('rolls back on the first failed measurement by default', () => {
      expect(handleReleaseEvent(running(), tick('fail', 500), later(1)).release.state).toBe('rolling_back');
    });

    it('tolerates failureLimit failed measurements, holding the step on each, and rolls back on the next', () => {
      const limits = { failureLimit: 2 };
      let release = running({ stepCanaryRequests: 1000 });
      for (const n of [1, 2]) {
        const result = engine(release, tick('fail', 500), later(20 + n), scriptedOptions({}, limits));
        expect(result.release).toMatchObject({ state: 'running', currentStep: 0, measurements: { failed: n, inconclusive: 0 } });
        expect(result.records).toEqual([expect.objectContaining({ type: 'measurement_failed', message: `Failed measurement tolerated (failed measurement ${n} of 2 tolerated): judge said fail` })]);
        release = result.release;
      }
      // A pass in between does not reset the count: the limit is over the release, as in Argo Rollouts.
      release = { ...engine(release, tick('pass', 0), later(23), scriptedOptions({}, limits)).release, currentStep: 0 };
      const third = engine(release, tick('fail', 500), later(24), scriptedOptions({}, limits));
      expect(third.release.state).toBe('rolling_back');
      expect(third.release.reason).toBe('judge said fail (failed measurement 3, limit 2)');
    });

    it('pauses for a person past inconclusiveLimit, and a resume counts afresh', () => {
      const options = scriptedOptions({}, { failureLimit: 0, inconclusiveLimit: 1 });
      const first = engine(running(), tick('inconclusive', 5), later(1), options).release;
      expect(first.state).toBe('running');
      const second = engine(first, tick('inconclusive', 5), later(2), options);
      expect(second.release).toMatchObject({ state: 'paused', reason: '2 inconclusive measurements, limit 1: judge said inconclusive' });
      const resumed = engine(second.release, user('resume'), later(3), options).release;
      expect(resumed.measurements).toEqual({ failed: 0, inconclusive: 0 });
      expect(engine(resumed, tick('inconclusive', 5), later(4), options).release.state).toBe('running');
    });

    it('applies the same limits to the post-release watch, counted afresh from its start', () => {
      const watching = running({ state: 'watching', plan: { ...THREE_STEP_PLAN, watchSeconds: 60 }, currentStep: 2, canaryWeight: 100, watchStartedAt: clock.now().toISOString() });
      const options = scriptedOptions({}, { failureLimit: 1, inconclusiveLimit: 0 });
      const tolerated = engine(watching, tick('fail', 500), later(5), options);
      expect(tolerated.release.state).toBe('watching');
      expect(tolerated.records[0].type).toBe('measurement_failed');
      expect(engine(tolerated.release, tick('fail', 500), later(6), options).release.state).toBe('rolling_back');
      const alerted = engine(watching, tick('inconclusive', 5), later(5), options);
      expect(alerted.release).toMatchObject({ state: 'watching', reason: 'Watch alert: 1 inconclusive measurements, limit 0: judge said inconclusive' });
      // The watch starts its count afresh: the steps' failures do not carry over.
      const lastStep = running({ plan: { ...THREE_STEP_PLAN, watchSeconds: 60 }, currentStep: 2, canaryWeight: 100, stepCanaryRequests: 100, measurements: { failed: 1, inconclusive: 7 } });
      expect(engine(lastStep, tick('pass', 10), later(11), options).release).toMatchObject({ state: 'watching', measurements: undefined });
    });

    it('rolls back after consecutiveErrorLimit provider errors when the analysis sets one, whatever the engine default', () => {
      const options = scriptedOptions({ maxConsecutiveProviderErrors: 60 }, { failureLimit: 0, consecutiveErrorLimit: 2 });
      const once = engine(running(), { type: 'providerError', error: 'timeout' }, later(1), options).release;
      expect(once.state).toBe('running');
      expect(engine(once, { type: 'providerError', error: 'timeout' }, later(2), options).release.state).toBe('rolling_back');
    });
  });

  describe('refused transitions', () => {
    const allowed: Record<string, ReleaseState[]> = {
      start: ['pending'],
      tick: ['running', 'paused', 'watching'],
      pause: ['running'],
      resume: ['paused'],
      promote: ['running', 'paused', 'watching'],
      rollback: ['pending', 'deploying', 'gating', 'running', 'paused', 'watching', 'promoting', 'succeeded'],
      // Only a gating release whose plan has a gate (resilienceGate.test.ts); this fixture has none.
      gateTick: [],
      gateError: [],
      weightApplied: ['rolling_back'],
      weightRefused: ['rolling_back'],
      timer: ['rolling_back'],
      providerError: ['running', 'paused', 'watching'],
    };
    const events: Record<string, EngineEvent> = {
      start: { type: 'start' },
      tick: tick('pass'),
      pause: user('pause'),
      resume: user('resume'),
      promote: user('promote'),
      rollback: user('rollback'),
      gateTick: { type: 'gateTick', seconds: 1, canary: { requests: 1, errors: 0, latenciesMs: [10] }, stable: { requests: 1, errors: 0, latenciesMs: [10] } },
      gateError: { type: 'gateError', error: 'x' },
      weightApplied: { type: 'weightApplied', weight: 0 },
      weightRefused: { type: 'weightApplied', weight: 0, error: 'x' },
      timer: { type: 'timer' },
      providerError: { type: 'providerError', error: 'x' },
    };
    const cases = Object.keys(events).flatMap(name =>
      RELEASE_STATES.map(state => [name, state] as const),
    );
    const allowedCases = cases.filter(([name, state]) => allowed[name].includes(state));
    const refusedCases = cases.filter(([name, state]) => !allowed[name].includes(state));

    it.each(allowedCases)('%s from %s is allowed and lands on a state the table allows', (name, state) => {
      const { release: next } = handleReleaseEvent(running({ state }), events[name], clock.now());
      expect([state, ...RELEASE_TRANSITIONS[state]]).toContain(next.state);
    });

    it.each(refusedCases)('%s from %s is refused', (name, state) => {
      expect(() => handleReleaseEvent(running({ state }), events[name], clock.now())).toThrow(InvalidTransitionError);
    });

    it('covers every event in every state', () => {
      expect(allowedCases.length + refusedCases.length).toBe(Object.keys(events).length * RELEASE_STATES.length);
      expect(refusedCases.length).toBeGreaterThan(40);
    });
  });

  it('rolls a succeeded release back to the previous version and finishes it again', () => {
    const done = running({ state: 'succeeded', canaryWeight: 100, finishedAt: '2026-01-01T00:00:00.000Z' });
    const started = handleReleaseEvent(done, user('rollback'), clock.now());
    expect(started.release.state).toBe('rolling_back');
    expect(started.release.finishedAt).toBe(done.finishedAt);
    expect(started.actions).toEqual([ROLLBACK_WEIGHT]);
    expect(started.release.reason).toMatch(/^back to the previous version, requested by /);
    const finished = handleReleaseEvent(started.release, { type: 'weightApplied', weight: 0 }, new Date(clock.now().getTime() + 1000));
    expect(finished.release.state).toBe('rolled_back');
    expect(finished.release.finishedAt).toBe(new Date(clock.now().getTime() + 1000).toISOString());
  });

  it('never changes the release it was given', () => {
    const release = running();
    const frozen = JSON.stringify(release);
    handleReleaseEvent(release, tick('fail'), clock.now());
    handleReleaseEvent(release, user('promote'), clock.now());
    expect(JSON.stringify(release)).toBe(frozen);
  });

  it('holds at a manual gate until a person resumes, then enters the gated step at once', () => {
    const gated = { ...THREE_STEP_PLAN, steps: THREE_STEP_PLAN.steps.map((step, i) => (i === 1 ? { ...step, approval: true } : step)) };
    const start = running({ plan: gated, stepCanaryRequests: 100 });
    const later = new Date(clock.now().getTime() + 11_000);
    const atGate = handleReleaseEvent(start, tick('pass'), later);
    expect(atGate.release).toMatchObject({ state: 'paused', currentStep: 0, canaryWeight: 10, gateStep: 1 });
    expect(atGate.actions).toEqual([]);
    expect(atGate.records[0].message).toBe('Manual gate before canary weight 50% (step 2 of 3): resume to continue');
    // More passing ticks change nothing while it waits.
    const waiting = handleReleaseEvent(atGate.release, tick('pass', 500), new Date(later.getTime() + 60_000));
    expect(waiting.release).toMatchObject({ state: 'paused', currentStep: 0, canaryWeight: 10 });
    const approved = handleReleaseEvent(waiting.release, user('resume', 'looks fine'), new Date(later.getTime() + 61_000));
    expect(approved.release).toMatchObject({ state: 'running', currentStep: 1, canaryWeight: 50, approvedStep: 1 });
    expect(approved.release.gateStep).toBeUndefined();
    expect(approved.actions).toEqual([{ type: 'setCanaryWeight', weight: 50 }]);
    expect(approved.records.map(r => r.type)).toEqual(['resumed', 'step_advanced']);
    // A failure at the gate still rolls back.
    const failed = handleReleaseEvent(atGate.release, tick('fail'), later);
    expect(failed.release.state).toBe('rolling_back');
  });
});
