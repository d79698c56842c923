import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { context, fault, instance } from '../__testUtils__';
import { StateFiles } from '../state';
import { CommandInjector } from './CommandInjector';

describe('the command injector', () => {
  it('runs inject once per fault and clear every time, with the fault in the environment and no shell', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-command-'));
    const log = path.join(dir, 'log');
    const script = `require('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({a:process.env.RELEASE_PILOT_ACTION,f:process.env.RELEASE_PILOT_FAULT,i:process.env.RELEASE_PILOT_INTENSITY,t:process.env.RELEASE_PILOT_TTL_SECONDS,s:process.env.RELEASE_PILOT_INSTANCE,arg:process.argv[1]})+'\\n')`;
    const injector = new CommandInjector(
      { type: 'command', inject: [process.execPath, '-e', script, '$(touch /tmp/rp-never)'], clear: [process.execPath, '-e', script], timeoutSeconds: 10 },
      new StateFiles(path.join(dir, 'state')),
    );
    await injector.inject(instance(), fault('dependencyLatency', 250, 45), context);
    await injector.inject(instance(), fault('dependencyLatency', 250, 45), context);
    await injector.clear(instance(), context);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map(line => JSON.parse(line));
    expect(lines).toEqual([
      { a: 'inject', f: 'dependencyLatency', i: '250', t: '45', s: 'canary', arg: '$(touch /tmp/rp-never)' },
      { a: 'clear', s: 'canary' },
    ]);
    expect(fs.existsSync('/tmp/rp-never')).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails with the command\'s own error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-command-'));
    const injector = new CommandInjector({ type: 'command', inject: [process.execPath, '-e', 'console.error("chaosd: no such pod");process.exit(3)'], clear: ['true'], timeoutSeconds: 10 }, new StateFiles(dir));
    await expect(injector.inject(instance(), fault('cpuPressure', 50), context)).rejects.toThrow('chaosd: no such pod');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
