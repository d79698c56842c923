import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { MetricProvider, patternRule, TrafficRouter } from '@release-pilot/plugin-releases-node';
import { TargetRegistry } from './TargetRegistry';

const router: TrafficRouter = {
  setCanaryWeight: async () => {},
  getCanaryWeight: async () => 0,
  annotationRules: [{ annotation: 'release-pilot.io/haproxy-backend', rule: patternRule(/^[a-z-]+$/, 'a name') }],
};
const metrics = {} as MetricProvider;
const logger = mockServices.logger.mock();
const analyses = ['strict'];
const validate = (name: string, key: string) => {
  if (!analyses.includes(name)) throw new Error(`Invalid config ${key}: no analysis '${name}'`);
};

function registry() {
  const targets = new TargetRegistry();
  targets.add({ name: 'simulator', trafficRouter: router, metricProvider: metrics });
  targets.addRouterType('haproxy', () => router);
  targets.addMetricProviderType('prometheus', ({ config, targetName }) => {
    if (!config.has('baseUrl')) throw new Error(`Invalid config releases.targets.${targetName}.metrics.baseUrl: missing`);
    return metrics;
  });
  return targets;
}

const configure = (targets: JsonObject) => {
  const r = registry();
  r.configure(new ConfigReader({ releases: { targets } }), logger, validate);
  return r;
};

describe('TargetRegistry.configure', () => {
  it('builds a named target from installed router and provider types, with its judge (or its deprecated analysis key, with a warning)', () => {
    const warn = jest.spyOn(logger, 'warn');
    const r = configure({
      vm: { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'http://p' }, judge: 'strict' },
      simulator: { analysis: 'strict', maxConsecutiveProviderErrors: 3 },
    });
    expect(r.names()).toEqual(['simulator', 'vm']);
    expect(r.get('vm')).toMatchObject({ name: 'vm', analysis: 'strict', trafficRouter: router, metricProvider: metrics });
    expect(r.get('simulator').analysis).toBe('strict');
    expect(r.get('simulator').maxConsecutiveProviderErrors).toBe(3);
    expect(r.get('vm').maxConsecutiveProviderErrors).toBeUndefined();
    expect(() => configure({ simulator: { maxConsecutiveProviderErrors: 0 } })).toThrow(
      'Invalid config releases.targets.simulator.maxConsecutiveProviderErrors: 0; it must be a whole number of at least 1',
    );
    expect(warn).toHaveBeenCalledWith('Config releases.targets.simulator.analysis is deprecated: rename it to releases.targets.simulator.judge');
    expect(warn).not.toHaveBeenCalledWith(expect.stringContaining('releases.targets.vm'));
  });

  it('fails at start-up with the key and what is known', () => {
    expect(() => configure({ vm: { router: { type: 'nginx' }, metrics: { type: 'prometheus', baseUrl: 'x' } } })).toThrow(
      "Invalid config releases.targets.vm.router.type: 'nginx' is not an installed traffic router type; known: haproxy",
    );
    expect(() => configure({ vm: { router: { type: 'haproxy' } } })).toThrow(
      "Invalid config releases.targets.vm.metrics: missing; a configured target needs both 'router' and 'metrics'",
    );
    expect(() => configure({ vm: { router: { type: 'haproxy' }, metrics: { type: 'prometheus' } } })).toThrow(
      'Invalid config releases.targets.vm.metrics.baseUrl: missing',
    );
    expect(() => configure({ vm: { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'x' }, judge: 'lax' } })).toThrow(
      "Invalid config releases.targets.vm.judge: no analysis 'lax'",
    );
    expect(() => configure({ simulator: { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'x' } } })).toThrow(
      "a module already registers the target 'simulator'",
    );
    expect(() => configure({ ghost: { analysis: 'strict' } })).toThrow("no module registers a target 'ghost'");
  });

  it('reads what an entity may set per annotation its providers read, and refuses what they do not read', () => {
    const vm = { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'http://p' } };
    expect(configure({ vm: { ...vm, allow: { 'haproxy-backend': ['${entityName}', '${entityName}-*'] } } }).get('vm').allow).toEqual({
      'release-pilot.io/haproxy-backend': ['${entityName}', '${entityName}-*'],
    });
    expect(configure({ simulator: { allow: { 'haproxy-backend': ['*'] } } }).get('simulator').allow).toEqual({ 'release-pilot.io/haproxy-backend': ['*'] });
    expect(() => configure({ vm: { ...vm, allow: { 'kubernetes-route': ['*'] } } })).toThrow(
      "Invalid config releases.targets.vm.allow.kubernetes-route: the target's providers read no annotation release-pilot.io/kubernetes-route; they read haproxy-backend",
    );
    expect(() => configure({ vm: { ...vm, allow: { 'haproxy-backend': 'checkout' } } })).toThrow(
      "Invalid config releases.targets.vm.allow.haproxy-backend: give a list of value patterns, e.g. ['${entityName}', '${entityName}-*']",
    );
  });

  it('builds the resilience gate from an installed type, and names an unknown one', () => {
    const parts = { injector: { inject: async () => {}, clear: async () => {} }, load: { read: async () => ({}) as never, stop: async () => {} } };
    const withGate = (resilience: JsonObject) => {
      const r = registry();
      r.addResilienceType('instances', ({ targetName, config }) => {
        if (!config.has('instances')) throw new Error(`Invalid config releases.targets.${targetName}.resilience.instances: missing`);
        return parts;
      });
      r.configure(new ConfigReader({ releases: { targets: { vm: { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'http://p' }, resilience } } } }), logger, validate);
      return r;
    };
    expect(withGate({ type: 'instances', instances: {} }).get('vm').resilience).toBe(parts);
    expect(() => withGate({ type: 'litmus' })).toThrow("Invalid config releases.targets.vm.resilience.type: 'litmus' is not an installed resilience gate type; known: instances");
    expect(() => withGate({ type: 'instances' })).toThrow('releases.targets.vm.resilience.instances: missing');
    expect(() => registry().addResilienceType('x', () => parts)).not.toThrow();
  });

  it('reads a target\'s experiment list, also for a module\'s target, and checks its names at start-up', () => {
    const r = configure({ vm: { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'http://p' }, experiments: ['latency'] }, simulator: { experiments: ['kill'] } });
    expect(r.get('vm').experiments).toEqual(['latency']);
    expect(r.get('simulator').experiments).toEqual(['kill']);
    expect(() => r.checkExperiments(['latency', 'kill'])).not.toThrow();
    expect(() => r.checkExperiments(['latency'])).toThrow('Invalid config releases.targets.simulator.experiments: no experiment named kill in releases.experiments; known: latency');
  });

  it('refuses a type registered twice', () => {
    expect(() => registry().addRouterType('haproxy', () => router)).toThrow("Traffic router type 'haproxy' is registered twice");
  });
});

describe('TargetRegistry.configure with regions', () => {
  const region = { router: { type: 'haproxy' }, metrics: { type: 'prometheus', baseUrl: 'http://p' } };

  it("registers the target and each region's part, with the group's policies, and a group router that refuses every call", async () => {
    const r = configure({ global: { regions: { 'eu-west-1': region, 'us-east-1': region }, waves: { bakeSeconds: 60, failurePolicy: 'hold' }, judge: 'strict', maxConsecutiveProviderErrors: 4 } });
    expect(r.names()).toEqual(['global', 'simulator']);
    expect(r.find('global/us-east-1')?.name).toBe('global/us-east-1');
    expect(r.get('global').waves).toEqual({ maxParallel: 4, bakeSeconds: 60, failurePolicy: 'hold' });
    expect(r.get('global/eu-west-1')).toMatchObject({ name: 'global/eu-west-1', analysis: 'strict', maxConsecutiveProviderErrors: 4, trafficRouter: router });
    expect(r.get('global/eu-west-1').regions).toBeUndefined();
    // The group reads its regions' annotations, and moves no traffic itself.
    expect(r.get('global').trafficRouter.annotationRules?.map(a => a.annotation)).toEqual(['release-pilot.io/haproxy-backend']);
    await expect(r.get('global').trafficRouter.setCanaryWeight({ entityRef: 'x', releaseId: 'r', version: '1', annotations: {} }, 10)).rejects.toThrow(
      "The target 'global' spans regions: its releases move traffic and measure region by region, through 'global/<region>'",
    );
  });

  it('refuses bad region config with the key to fix', () => {
    expect(() => configure({ global: { regions: { 'EU West': region } } })).toThrow('Invalid config releases.targets.global.regions.EU West: a region name is 1-63 lowercase letters, digits and dashes');
    expect(() => configure({ global: { regions: { a: { router: { type: 'haproxy' } } } } })).toThrow("Invalid config releases.targets.global.regions.a.metrics: missing");
    expect(() => configure({ global: { router: { type: 'haproxy' }, regions: { a: region } } })).toThrow("a target with 'regions' sets 'router', 'metrics' and 'deployer' per region");
    expect(() => configure({ global: { regions: { a: region, b: region }, waves: { waves: [['a'], ['a', 'c']] } } })).toThrow(
      "Invalid config releases.targets.global.waves.waves: 'c' is not one of its regions (a, b); 'b' is in no wave; 'a' is in two waves",
    );
    expect(() => configure({ global: { regions: { a: region }, waves: { maxParallel: 0 } } })).toThrow(/Invalid config releases.targets.global.waves.maxParallel/);
  });
});
