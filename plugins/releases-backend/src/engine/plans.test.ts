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
    ).toThrow(/releases\.plans\.bad\.steps: .*last step must have weight 100/s);
    expect(() =>
      PlanCatalog.fromConfig(new ConfigReader({ releases: { defaultPlan: 'missing' } })),
    ).toThrow("Invalid config releases.defaultPlan: no plan named 'missing'; known plans: default");
  });
});
