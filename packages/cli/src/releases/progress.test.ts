import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ReleaseDetails } from '@release-pilot/plugin-releases-common';
import { describe as describeRelease, exitCodeOf } from './progress';

const release = (overrides: Partial<ReleaseDetails>): ReleaseDetails =>
  ({
    id: 'r1',
    entityRef: 'component:default/checkout',
    version: '1.4.2',
    state: 'running',
    plan: { name: 'demo', steps: [10, 50, 100].map(weight => ({ weight, minDurationSeconds: 6, minCanaryRequests: 0 })), watchSeconds: 20 },
    currentStep: 1,
    canaryWeight: 50,
    ...overrides,
  }) as ReleaseDetails;

describe('progress lines', () => {
  it('say the state, the step and the judge\'s summary, or the watch', () => {
    expect(describeRelease(release({ latestVerdict: { at: '', outcome: 'pass', summary: 'Canary healthy so far', evidence: [] } }))).toBe(
      'running step 2/3 at 50% (Canary healthy so far)',
    );
    expect(describeRelease(release({ state: 'watching', currentStep: 2, canaryWeight: 100 }))).toBe(
      "watching at 100% against the service's history",
    );
    expect(describeRelease(release({ state: 'rolled_back', canaryWeight: 0, reason: 'requested by ci' }))).toBe(
      'rolled_back step 2/3 at 0% (requested by ci)',
    );
  });

  it('exit 0 only for a succeeded release', () => {
    expect(exitCodeOf(release({ state: 'succeeded' }))).toBe(0);
    expect(exitCodeOf(release({ state: 'rolled_back' }))).toBe(1);
    expect(exitCodeOf(release({ state: 'failed' }))).toBe(1);
  });

  const rollout = (state: 'running' | 'succeeded', skipped?: string[]) => ({
    plan: { waves: [['us-west-2'], ['eu-west-1', 'ap-south-1']], bakeSeconds: 0, order: [] },
    failurePolicy: 'hold' as const, state, wave: 1, regions: {}, skipped,
  });

  it("prints every region's part of a release across regions, and exits 0 only when every region succeeded", () => {
    const regions = [
      release({ region: 'us-west-2', state: 'succeeded', currentStep: 2, canaryWeight: 100 }),
      release({ region: 'eu-west-1', state: 'running', currentStep: 1, canaryWeight: 50 }),
    ];
    expect(describeRelease(release({ rollout: rollout('running'), regionReleases: regions }))).toBe(
      'running wave 2/2: us-west-2 succeeded; eu-west-1 running step 2/3 at 50%; ap-south-1 waiting',
    );
    expect(exitCodeOf(release({ state: 'succeeded', rollout: rollout('succeeded') }))).toBe(0);
    // A person resumed past a failed region: it succeeded, but not everywhere.
    expect(exitCodeOf(release({ state: 'succeeded', rollout: rollout('succeeded', ['ap-south-1']) }))).toBe(1);
  });
});

describe('release-pilot release commands', () => {
  const cli = resolve(__dirname, '../../bin/release-pilot');

  it('exit 3 with the usage problem, and 3 with a clear message when the backend cannot be reached', () => {
    const usage = spawnSync(process.execPath, [cli, 'start', '--entity', 'component:default/checkout'], { encoding: 'utf8' });
    expect(usage.status).toBe(3);
    expect(usage.stderr).toMatch(/required option '--version <version>' not specified/);
    const unreachable = spawnSync(process.execPath, [cli, 'status', 'r1', '--url', 'http://127.0.0.1:7019'], { encoding: 'utf8' });
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/^release-pilot: Cannot reach Backstage at http:\/\/127\.0\.0\.1:7019 \(ECONNREFUSED\); is the backend running\?/);
  });
});
