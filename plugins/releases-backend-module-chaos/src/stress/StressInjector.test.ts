import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fault, instance } from '../__testUtils__';
import { commandLineOf, StateFiles } from '../state';
import { StressInjector } from './StressInjector';

const hasStressNg = fs.existsSync('/usr/bin/stress-ng');
const describeIf = hasStressNg ? describe : describe.skip;

describeIf('stress-ng CPU pressure', () => {
  let dir: string;
  const on = instance();
  const pidOf = () => JSON.parse(fs.readFileSync(new StateFiles(dir).pathOf(on, 'stress'), 'utf8')).pid as number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-stress-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts one stress-ng per instance and fault, once, and a restarted backend stops it', async () => {
    await new StressInjector(new StateFiles(dir)).inject(on, fault('cpuPressure', 50));
    const pid = pidOf();
    expect(await commandLineOf(pid)).toContain('--cpu-load 50');
    await new StressInjector(new StateFiles(dir)).inject(on, fault('cpuPressure', 50));
    expect(pidOf()).toBe(pid);
    // Another backend (a restart, a replica) with the same state directory takes it off.
    await new StressInjector(new StateFiles(dir)).clear(on);
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(await commandLineOf(pid)).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('takes a share of memory with a VM worker for memoryPressure', async () => {
    await new StressInjector(new StateFiles(dir)).inject(on, fault('memoryPressure', 5));
    const pid = pidOf();
    expect(await commandLineOf(pid)).toContain('--vm 1 --vm-bytes 5% --vm-keep');
    await new StressInjector(new StateFiles(dir)).clear(on);
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(await commandLineOf(pid)).toBeUndefined();
  });

  it('ends by itself when the TTL passes (stress-ng --timeout)', async () => {
    await new StressInjector(new StateFiles(dir)).inject(on, fault('cpuPressure', 20, 1));
    const pid = pidOf();
    expect(await commandLineOf(pid)).toContain('--timeout 1s');
    for (let i = 0; i < 40 && (await commandLineOf(pid)); i++) await new Promise(resolve => setTimeout(resolve, 100));
    expect(await commandLineOf(pid)).toBeUndefined();
  });
});

it('says so when stress-ng cannot start, and refuses other faults', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-stress-'));
  await expect(new StressInjector(new StateFiles(dir), '/nonexistent/stress-ng').inject(instance(), fault('cpuPressure', 50))).rejects.toThrow('could not start');
  await expect(new StressInjector(new StateFiles(dir)).inject(instance(), fault('packetLoss', 0.1))).rejects.toThrow('cannot inject packetLoss');
  fs.rmSync(dir, { recursive: true, force: true });
});
