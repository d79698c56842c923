import {
  ReleaseAction,
  ReleaseState,
  RELEASE_STATES,
  RELEASE_TRANSITIONS,
} from '@release-pilot/plugin-releases-common';
import { makeRelease, makeVerdict, THREE_STEP_PLAN } from '../__testUtils__/fixtures';
import { VirtualClock } from './clock';
import { EngineEvent, handleReleaseEvent } from './engine';
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

function tick(outcome: 'pass' | 'warn' | 'fail' | 'inconclusive', canaryRequests = 0): EngineEvent {
  return { type: 'tick', verdict: makeVerdict(outcome, `judge said ${outcome}`), canaryRequests };
}

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
      expect(failed.actions).toEqual([{ type: 'setCanaryWeight', weight: 0 }]);

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
    expect(result.actions).toEqual([{ type: 'setCanaryWeight', weight: 0 }]);
    const done = handleReleaseEvent(result.release, { type: 'rollbackApplied' }, clock.now());
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
    const first = handleReleaseEvent(release, { type: 'rollbackFailed', error: 'router down' }, firstAt, options);
    expect(first.release).toMatchObject({ state: 'rolling_back', routerErrorSince: firstAt.toISOString(), routerError: 'router down', reason: 'bad' });
    expect(first.actions).toEqual([{ type: 'setCanaryWeight', weight: 0 }]);
    expect(first.records.map(r => r.type)).toEqual(['rollback_pending']);
    release = first.release;
    for (let i = 2; i <= 20; i++) {
      const next = handleReleaseEvent(release, { type: 'rollbackFailed', error: `still down ${i}` }, clock.advance(5), options);
      expect(next.release).toMatchObject({ state: 'rolling_back', routerErrorSince: firstAt.toISOString(), routerError: `still down ${i}`, consecutiveProviderErrors: i });
      expect(next.records[0].type).toBe('provider_error');
      release = next.release;
    }
    const applied = handleReleaseEvent(release, { type: 'rollbackApplied' }, clock.advance(5), options);
    expect(applied.release).toMatchObject({ state: 'rolled_back', consecutiveProviderErrors: 0, routerErrorSince: undefined, routerError: undefined });
  });

  describe('refused transitions', () => {
    const allowed: Record<string, ReleaseState[]> = {
      start: ['pending'],
      tick: ['running', 'paused', 'watching'],
      pause: ['running'],
      resume: ['paused'],
      promote: ['running', 'paused', 'watching'],
      rollback: ['pending', 'deploying', 'running', 'paused', 'watching', 'promoting', 'succeeded'],
      rollbackApplied: ['rolling_back'],
      rollbackFailed: ['rolling_back'],
      providerError: ['running', 'paused', 'watching'],
    };
    const events: Record<string, EngineEvent> = {
      start: { type: 'start' },
      tick: tick('pass'),
      pause: user('pause'),
      resume: user('resume'),
      promote: user('promote'),
      rollback: user('rollback'),
      rollbackApplied: { type: 'rollbackApplied' },
      rollbackFailed: { type: 'rollbackFailed', error: 'x' },
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
    expect(started.actions).toEqual([{ type: 'setCanaryWeight', weight: 0 }]);
    expect(started.release.reason).toMatch(/^back to the previous version, requested by /);
    const finished = handleReleaseEvent(started.release, { type: 'rollbackApplied' }, new Date(clock.now().getTime() + 1000));
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
