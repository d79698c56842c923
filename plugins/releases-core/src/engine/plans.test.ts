import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { DEFAULT_PLAN, PlanCatalog } from './plans';

describe('PlanCatalog', () => {
  it('has the default plan 1, 5, 10, 25, 50, 100', () => {
    const plans = PlanCatalog.fromConfig(new ConfigReader({}));
    expect(plans.resolve(undefined).steps.map(s => s.weight)).toEqual([1, 5, 10, 25, 50, 100]);
    expect(plans.resolve(undefined)).toBe(DEFAULT_PLAN);
  });

  it('reads named plans and picks request, then annotation, then configured default', () => {
    const plans = PlanCatalog.fromConfig(
      new ConfigReader({
        releases: {
          defaultPlan: 'fast',
          plans: {
            fast: { steps: [{ weight: 50, minDurationSeconds: 1 }, { weight: 100, minDurationSeconds: 1 }] },
            slow: { steps: [{ weight: 100, minDurationSeconds: 600, minCanaryRequests: 10 }] },
          },
        },
      }),
    );
    expect(plans.resolve(undefined).name).toBe('fast');
    expect(plans.resolve(undefined, 'slow').name).toBe('slow');
    expect(plans.resolve('default', 'slow').name).toBe('default');
    expect(plans.resolve({ steps: [{ weight: 100, minDurationSeconds: 5, minCanaryRequests: 0 }] }).name).toBe('custom');
    expect(plans.resolve('fast').steps[0]).toEqual({ weight: 50, minDurationSeconds: 1, minCanaryRequests: 0 });
    expect(() => plans.resolve('nope')).toThrow(InputError);
    expect(() => plans.resolve('nope')).toThrow("Unknown plan 'nope'; known plans: default, fast, slow");
  });

  it('refuses invalid plans in config with the key that is wrong', () => {
    expect(() =>
      PlanCatalog.fromConfig(new ConfigReader({ releases: { plans: { bad: { steps: [{ weight: 50, minDurationSeconds: 1 }] } } } })),
    ).toThrow(/releases\.plans\.bad\.steps\.0\.weight: the last step must have weight 100/);
    expect(() =>
      PlanCatalog.fromConfig(new ConfigReader({ releases: { defaultPlan: 'missing' } })),
    ).toThrow("Invalid config releases.defaultPlan: no plan named 'missing'; known plans: default");
  });

  it('derives blue-green, progressive and rolling plans from their strategy', () => {
    const plans = PlanCatalog.fromConfig(
      new ConfigReader({
        releases: {
          plans: {
            bg: { strategy: 'blueGreen', previewSeconds: 30, previewRequests: 200, bakeSeconds: 300 },
            linear: { strategy: 'progressive', stepPercent: 30, stepSeconds: 60, minCanaryRequests: 100 },
            batches: { strategy: 'rolling', batches: 3, batchSeconds: 120, watchSeconds: 60 },
          },
        },
      }),
    );
    expect(plans.resolve('bg')).toEqual({
      name: 'bg',
      strategy: 'blueGreen',
      steps: [
        { weight: 0, minDurationSeconds: 30, minCanaryRequests: 200 },
        { weight: 100, minDurationSeconds: 0, minCanaryRequests: 1 },
      ],
      watchSeconds: 300,
    });
    expect(plans.resolve('linear').steps.map(s => s.weight)).toEqual([30, 60, 90, 100]);
    expect(plans.resolve('linear').steps[0]).toEqual({ weight: 30, minDurationSeconds: 60, minCanaryRequests: 100 });
    expect(plans.resolve('batches')).toMatchObject({ strategy: 'rolling', watchSeconds: 60 });
    expect(plans.resolve('batches').steps.map(s => s.weight)).toEqual([33, 67, 100]);
  });

  it('carries a plan\'s warm-up, from config or an inline plan, and names a bad one', () => {
    const plans = PlanCatalog.fromConfig(
      new ConfigReader({
        releases: {
          plans: {
            cold: { steps: [{ weight: 10, minDurationSeconds: 30 }, { weight: 100, minDurationSeconds: 30 }], warmUpSeconds: 20 },
            bg: { strategy: 'blueGreen', previewSeconds: 30, bakeSeconds: 60, warmUpSeconds: 10 },
          },
        },
      }),
    );
    expect(plans.resolve('cold').warmUpSeconds).toBe(20);
    expect(plans.resolve('bg')).toMatchObject({ strategy: 'blueGreen', warmUpSeconds: 10 });
    expect(plans.resolve('default').warmUpSeconds).toBeUndefined();
    expect(plans.resolve({ steps: [{ weight: 100, minDurationSeconds: 5, minCanaryRequests: 0 }], warmUpSeconds: 15 }).warmUpSeconds).toBe(15);
    const read = (warmUpSeconds: number | string) => () =>
      PlanCatalog.fromConfig(new ConfigReader({ releases: { plans: { p: { strategy: 'rolling', batches: 2, batchSeconds: 5, warmUpSeconds } } } }));
    expect(read(7200)).toThrow(/releases\.plans\.p\.warmUpSeconds/);
    expect(read(-1)).toThrow(/releases\.plans\.p\.warmUpSeconds/);
    expect(read('soon')).toThrow(/releases\.plans\.p\.warmUpSeconds/);
  });

  it('reads a resilience gate with its defaults, and names what is wrong with a bad one', () => {
    const read = (gate: object) => () => PlanCatalog.fromConfig(new ConfigReader({ releases: { plans: { p: { steps: [{ weight: 100, minDurationSeconds: 5 }], gate } } } }));
    const latency = { name: 'dependency +200 ms', fault: 'dependencyLatency', intensity: 200, durationSeconds: 30 };
    const gate = read({ experiments: [latency] })().resolve('p').gate!;
    expect(gate).toMatchObject({ quantile: 0.95, steadySeconds: 10, calibrationSeconds: 5, minRequests: 100, alpha: 0.01, margins: { errorRatio: 1.5, latency: 0.2, slowRatio: 1.5, recoverySeconds: 10 } });
    expect(gate.experiments).toEqual([{ ...latency, recoverySeconds: 30 }]);
    // No experiments in the plan: the entity's or the target's list fills them at admission.
    expect(read({})().resolve('p').gate!.experiments).toEqual([]);
    expect(read({ experiments: [{ ...latency, intensity: 0.5 }] })).toThrow(/gate\.experiments\.0\.intensity.*dependencyLatency's intensity is added milliseconds, 1-60000/);
    expect(read({ experiments: [{ ...latency, fault: 'instanceKill' }] })).toThrow(/instanceKill takes no intensity/);
    expect(read({ experiments: [{ ...latency, fault: 'meteorStrike' }] })).toThrow(/gate\.experiments\.0\.fault/);
    expect(read({ experiments: [latency], calibrationSeconds: 30 })).toThrow(/the fault must last longer than calibrationSeconds \(30 s\)/);
    expect(read({ experiments: [latency, latency] })).toThrow(/experiment 'dependency \+200 ms' is named twice/);
    expect(read({ experiments: [latency], alpha: 0.5 })).toThrow(/gate\.alpha/);
    expect(read({ experiments: [{ name: 'memory', fault: 'memoryPressure', intensity: 95, durationSeconds: 30 }] })).toThrow(/memoryPressure's intensity is a share of the host's memory in %, 1-90/);
    // A paused instance, like a killed one, answers nothing to calibrate on: it may be short.
    expect(read({ experiments: [{ name: 'pause', fault: 'instancePause', durationSeconds: 5 }] })().resolve('p').gate!.experiments[0].fault).toBe('instancePause');
  });

  it('fills a gate\'s experiments from the entity\'s list, else the plan\'s, else the target\'s, by name in releases.experiments', () => {
    const plans = PlanCatalog.fromConfig(
      new ConfigReader({
        releases: {
          experiments: {
            'latency-200': { fault: 'dependencyLatency', intensity: 200, durationSeconds: 20 },
            kill: { name: 'instance kill', fault: 'instanceKill', durationSeconds: 5 },
          },
          plans: {
            open: { steps: [{ weight: 100, minDurationSeconds: 5 }], gate: {} },
            own: { steps: [{ weight: 100, minDurationSeconds: 5 }], gate: { experiments: [{ name: 'cpu', fault: 'cpuPressure', intensity: 80, durationSeconds: 10 }] } },
          },
        },
      }),
    );
    expect(plans.experimentIds()).toEqual(['kill', 'latency-200']);
    const names = (plan: string, sources: object) => plans.withGateExperiments(plans.resolve(plan), sources).gate!.experiments.map(e => e.name);
    const target = { name: 'vm', ids: ['kill'] };
    expect(names('open', { target })).toEqual(['instance kill']);
    expect(names('own', { target })).toEqual(['cpu']);
    expect(names('own', { annotation: ' latency-200, kill ', target })).toEqual(['latency-200', 'instance kill']);
    expect(plans.withGateExperiments(plans.resolve('default'), { annotation: 'kill' }).gate).toBeUndefined();
    expect(() => names('open', { target: { name: 'vm', ids: [] } })).toThrow("Plan 'open' begins with a resilience gate but lists no experiments");
    expect(() => names('open', { annotation: 'kill, meteor' })).toThrow('Annotation release-pilot.io/experiments names unknown experiments: meteor; known (releases.experiments): kill, latency-200');
    expect(() => names('open', { annotation: '$(reboot)' })).toThrow('must list experiment names');
    // A catalog experiment that does not fit the plan's gate (no longer than its calibration).
    const tight = PlanCatalog.fromConfig(new ConfigReader({ releases: { experiments: { short: { fault: 'packetLoss', intensity: 0.1, durationSeconds: 5 } }, plans: { p: { steps: [{ weight: 100, minDurationSeconds: 5 }], gate: { calibrationSeconds: 8 } } } } }));
    expect(() => tight.withGateExperiments(tight.resolve('p'), { annotation: 'short' })).toThrow('the fault must last longer than calibrationSeconds (8 s)');
    expect(() => PlanCatalog.fromConfig(new ConfigReader({ releases: { experiments: { k: { fault: 'instanceKill', durationSeconds: 1 } } } }))).toThrow(/releases\.experiments\.k\.durationSeconds/);
    expect(() => PlanCatalog.fromConfig(new ConfigReader({ releases: { experiments: { Bad_Name: { fault: 'instanceKill', durationSeconds: 5 } } } }))).toThrow(/releases\.experiments\.Bad_Name/);
  });

  it('names the bad key of a strategy plan', () => {
    const read = (plan: object) => () => PlanCatalog.fromConfig(new ConfigReader({ releases: { plans: { p: plan } } }));
    expect(read({ strategy: 'blueGreen', previewSeconds: 30 })).toThrow(/releases\.plans\.p\.bakeSeconds/);
    expect(read({ strategy: 'progressive', stepPercent: 0, stepSeconds: 60 })).toThrow(/releases\.plans\.p\.stepPercent/);
    expect(read({ strategy: 'zigzag' })).toThrow(/releases\.plans\.p\.strategy/);
    expect(read({ strategy: 'rolling', batches: 2, batchSeconds: 5, steps: [] })).toThrow(/releases\.plans\.p/);
  });
});
