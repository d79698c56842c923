import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fault, instance } from '../__testUtils__';
import { StateFiles } from '../state';
import { SignalInjector } from './SignalInjector';

describe('instance kill by signal', () => {
  it('kills the process in the pid file once per fault, even across restarts of the backend', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-signal-'));
    const pidFile = path.join(dir, 'canary.pid');
    const start = () => {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      fs.writeFileSync(pidFile, String(child.pid));
      return new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)));
    };
    const on = instance({ pidFile });
    const first = start();
    await new SignalInjector(new StateFiles(path.join(dir, 'state'))).inject(on, fault('instanceKill'));
    expect(await first).toBe('SIGKILL');
    // The supervisor restarted it; the same fault again (a new backend, same state) kills nothing.
    const restarted = start();
    await new SignalInjector(new StateFiles(path.join(dir, 'state'))).inject(on, fault('instanceKill'));
    const alive = await Promise.race([restarted, new Promise(resolve => setTimeout(() => resolve('alive'), 300))]);
    expect(alive).toBe('alive');
    // The next experiment's kill does.
    await new SignalInjector(new StateFiles(path.join(dir, 'state'))).inject(on, fault('instanceKill', undefined, 60, 'r1/1'));
    expect(await restarted).toBe('SIGKILL');
    await expect(new SignalInjector(new StateFiles(dir)).inject(on, fault('instanceKill', undefined, 60, 'r1/2'))).rejects.toThrow('is not running');
    await expect(new SignalInjector(new StateFiles(dir)).inject(instance(), fault('instanceKill'))).rejects.toThrow('names no pid file');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pauses the process for the fault and continues it on clear, or by its watchdog when the TTL runs out with no backend', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-signal-'));
    const pidFile = path.join(dir, 'canary.pid');
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    fs.writeFileSync(pidFile, String(child.pid));
    // The process state (T: stopped, S: sleeping) once the signal has been delivered.
    const stateOf = async () => {
      let state = '';
      for (let i = 0; i < 20; i++) {
        state = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(' ')[2];
        if (state !== 'R') break;
        await new Promise(resolve => setTimeout(resolve, 25));
      }
      return state;
    };
    const on = instance({ pidFile });
    const state = new StateFiles(path.join(dir, 'state'));
    await new SignalInjector(state).inject(on, fault('instancePause', undefined, 60));
    expect(await stateOf()).toBe('T');
    await new SignalInjector(state).clear(on);
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(await stateOf()).toBe('S');
    // Nobody clears: the watchdog continues it when the TTL (1 s) has passed.
    await new SignalInjector(state).inject(on, fault('instancePause', undefined, 1, 'r1/1'));
    expect(await stateOf()).toBe('T');
    await new Promise(resolve => setTimeout(resolve, 1600));
    expect(await stateOf()).toBe('S');
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
