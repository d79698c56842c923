import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runScenario } from './runScenario';
import { parseScenario } from './scenario';

const scenarioFile = (name: string) => resolve(__dirname, '../../scenarios', name);
const load = (name: string) => parseScenario(readFileSync(scenarioFile(name), 'utf8'));

describe('parseScenario', () => {
  it('names the field to fix', () => {
    expect(() => parseScenario('name: x\ntraffic: { rps: -1 }\nbaseline: { errorRate: 0.1, latencyMs: { p50: 1, p95: 2 } }\nplan: { steps: [ { weight: 100, seconds: 1 } ] }')).toThrow(/traffic\.rps/);
    expect(() => parseScenario('name: x\ntraffic: { rps: 1 }\nbaseline: { errorRate: 0.1, latencyMs: { p50: 1, p95: 2 } }\nplan: { steps: [ { weight: 50, seconds: 1 } ] }')).toThrow(/last step must have weight 100/);
    expect(() => parseScenario('name: x\ntraffic: { rps: 1 }\nbaseline: { errorRate: 0.1, latencyMs: { p50: 3, p95: 2 } }\nplan: { steps: [ { weight: 100, seconds: 1 } ] }')).toThrow(/p95 must be greater than p50/);
  });

  it('reads the Black Friday scenario', () => {
    const scenario = load('black-friday.yaml');
    expect(scenario.canary.fault).toMatchObject({ atWeight: 10, latencyMs: { p95: 2840 } });
    expect(scenario.plan.steps).toHaveLength(6);
  });
});

describe('runScenario', () => {
  it('rolls the Black Friday release back within seconds of the fault, every run, deterministically', () => {
    const result = runScenario(load('black-friday.yaml'), { runs: 5, seed: 7 });
    expect(result).toMatchObject({ runs: 5, rolledBack: 5, promoted: 0, falseRollbackRate: 0 });
    expect(result.detectionSeconds.max).toBeLessThanOrEqual(3);
    expect(result.exposedRequests.median).toBeGreaterThan(0);
    expect(runScenario(load('black-friday.yaml'), { runs: 5, seed: 7 })).toEqual(result);
  });

  it('completes a rollback when the router has applied weight 0, not at the decision: its latency counts, and so does what the canary served meanwhile', () => {
    const scenario = load('black-friday.yaml');
    const instant = runScenario({ ...scenario, router: { latencyMs: 0 } }, { runs: 8, seed: 3 });
    const slow = runScenario({ ...scenario, router: { latencyMs: 800 } }, { runs: 8, seed: 3 });
    expect(slow.detectionSeconds).toEqual(instant.detectionSeconds);
    expect(instant.rollbackCompleteSeconds).toEqual(instant.detectionSeconds);
    // Each call takes 0.5 to 1.5 times the mean: 0.4 to 1.2 s after the decision.
    expect(slow.rollbackCompleteSeconds.median! - slow.detectionSeconds.median!).toBeGreaterThanOrEqual(0.4);
    expect(slow.rollbackCompleteSeconds.max! - slow.detectionSeconds.max!).toBeLessThanOrEqual(1.2);
    expect(slow.exposedRequests.median!).toBeGreaterThan(instant.exposedRequests.median!);
    expect(slow).toMatchObject({ tickSeconds: 1, routerLatencyMs: 800 });
  });

  it('promotes healthy canaries and measures no detection', () => {
    const result = runScenario(load('healthy-2000rps.yaml'), { runs: 10, seed: 1 });
    expect(result.promoted + result.rolledBack + result.paused).toBe(10);
    expect(result.promoted).toBeGreaterThanOrEqual(9);
    expect(result.detectionSeconds.count).toBe(0);
    expect(result.exposedRequests.max).toBe(0);
  });

  it('a cold start is rolled back without a warm-up and promoted with one; a real fault is caught that much later', () => {
    const cold = load('cold-start.yaml');
    const warm = (scenario: typeof cold, warmUpSeconds: number) => ({ ...scenario, plan: { ...scenario.plan, warmUpSeconds } });
    expect(runScenario(cold, { runs: 10, seed: 1 })).toMatchObject({ rolledBack: 10, promoted: 0 });
    expect(runScenario(warm(cold, 8), { runs: 10, seed: 1 })).toMatchObject({ rolledBack: 0, promoted: 10 });
    const faulty = { ...cold, canary: { fault: { errorRate: 0.0018, latencyMs: { p50: 900, p95: 2840 } } } };
    expect(runScenario(faulty, { runs: 10, seed: 1 }).detectionSeconds.max).toBeLessThanOrEqual(3);
    const late = runScenario(warm(faulty, 8), { runs: 10, seed: 1 });
    expect(late).toMatchObject({ rolledBack: 10 });
    expect(late.detectionSeconds.median).toBeGreaterThan(8);
    expect(late.detectionSeconds.max).toBeLessThanOrEqual(11);
  });

  it('runs the threshold judge on the same scenario', () => {
    const result = runScenario(load('black-friday.yaml'), { runs: 5, seed: 7, judge: 'threshold' });
    expect(result.judge).toBe('threshold');
    // Per-tick bounds see the 2,840 ms fault at once, when noise has not stopped the release before it.
    expect(result.rolledBack).toBe(5);
    expect(result.detectionSeconds.count + Math.round(result.falseRollbackRate * 5)).toBe(5);
  });

  it('refuses an unknown judge', () => {
    expect(() => runScenario(load('black-friday.yaml'), { runs: 1, seed: 1, judge: 'oracle' })).toThrow(
      "Unknown judge 'oracle'; use one of default, sequential, fixed, kayenta, threshold (or a named analysis, with --config)",
    );
  });
});

describe('release-pilot simulate', () => {
  it('prints one JSON object with the measures', () => {
    const cli = resolve(__dirname, '../../bin/release-pilot');
    const run = spawnSync(process.execPath, [cli, 'simulate', '--scenario', scenarioFile('black-friday.yaml'), '--runs', '3', '--seed', '2', '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['runs', 'rolledBack', 'promoted', 'paused', 'falseRollbackRate', 'detectionSeconds', 'rollbackCompleteSeconds', 'exposedRequests', 'exposedErrors']));
    expect(result.detectionSeconds).toMatchObject({ median: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) });
  });

  it('judges with a named analysis from app-config files', () => {
    const cli = resolve(__dirname, '../../bin/release-pilot');
    const dir = mkdtempSync(join(tmpdir(), 'rp-sim-'));
    const config = join(dir, 'app-config.yaml');
    writeFileSync(config, 'releases:\n  analyses:\n    strict: { type: threshold, threshold: { metrics: [ { metric: errorRate, max: 0.001 } ] } }\n');
    const args = (judge: string) => [cli, 'simulate', '--scenario', scenarioFile('black-friday.yaml'), '--runs', '2', '--config', config, '--judge', judge, '--json'];
    const run = spawnSync(process.execPath, args('strict'), { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ judge: 'strict', runs: 2 });
    const unknown = spawnSync(process.execPath, args('lenient'), { encoding: 'utf8' });
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toMatch(/Unknown judge 'lenient'; use one of default, sequential, fixed, kayenta, threshold, strict/);
  });

  it('says what is wrong with a bad argument and exits 3', () => {
    const cli = resolve(__dirname, '../../bin/release-pilot');
    const run = spawnSync(process.execPath, [cli, 'simulate', '--scenario', '/nonexistent.yaml'], { encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/release-pilot: .*nonexistent\.yaml/);
  });
});

describe('yarn bench:healthy', () => {
  it('counts the outcomes of healthy releases and the judge cost per tick', () => {
    const bench = resolve(__dirname, '../../bin/bench-healthy');
    const run = spawnSync(process.execPath, [bench, '--runs', '3', '--plan', 'demo'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ plan: 'demo', judge: 'sequential', runs: 3 });
    expect(result.succeeded + result.falseRollbacks + result.falsePauses).toBe(3);
    expect(result.judgeMsPerTick.ticks).toBeGreaterThan(100);
  });

  it('refuses an unknown plan', () => {
    const bench = resolve(__dirname, '../../bin/bench-healthy');
    const run = spawnSync(process.execPath, [bench, '--plan', 'yolo'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Usage: --runs N/);
  });
});
