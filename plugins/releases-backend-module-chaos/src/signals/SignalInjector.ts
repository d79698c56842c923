import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { GateFault } from '@release-pilot/plugin-releases-node';
import { Instance, InstanceInjector } from '../instances';
import { commandLineOf, StateFiles } from '../state';

/** The watchdog that continues a paused instance when the fault's TTL runs out, whatever happens to the backend. */
const WATCHDOG = 'const [pid, ms] = process.argv.slice(-2).map(Number); setTimeout(() => { try { process.kill(pid, "SIGCONT"); } catch {} }, ms);';
const WATCHDOG_TAG = 'release-pilot-continue';

interface Paused {
  id: string;
  pid: number;
  watchdog: number;
}

/**
 * Process faults by signal, on the process in the instance's pid file, once per fault:
 * - `instanceKill`: SIGKILL; the instance's supervisor (systemd, Kubernetes, the stack's own)
 *   restarts it, and the recovery phase measures how long that takes. Nothing to take back.
 * - `instancePause`: SIGSTOP, and a detached watchdog that sends SIGCONT when the TTL runs out;
 *   clearing sends SIGCONT at once and ends the watchdog.
 */
export class SignalInjector implements InstanceInjector {
  constructor(private readonly state: StateFiles) {}

  async inject(instance: Instance, fault: GateFault): Promise<void> {
    const kind = fault.experiment.fault;
    if (kind !== 'instanceKill' && kind !== 'instancePause') throw new Error(`signals cannot inject ${kind}`);
    const marker = this.state.pathOf(instance, kind === 'instanceKill' ? 'killed' : 'paused');
    const done = await this.state.read(marker);
    const doneId = kind === 'instanceKill' ? done : done && (JSON.parse(done) as Paused).id;
    if (doneId === fault.id) return;
    const pid = await this.pidOf(instance);
    if (kind === 'instanceKill') {
      await this.state.write(marker, fault.id);
      process.kill(pid, 'SIGKILL');
      return;
    }
    const watchdog = spawn(process.execPath, ['-e', WATCHDOG, WATCHDOG_TAG, String(pid), String(Math.max(1, Math.ceil(fault.ttlSeconds)) * 1000)], { detached: true, stdio: 'ignore' });
    watchdog.unref();
    await this.state.write(marker, JSON.stringify({ id: fault.id, pid, watchdog: watchdog.pid! } satisfies Paused));
    process.kill(pid, 'SIGSTOP');
  }

  async clear(instance: Instance): Promise<void> {
    const marker = this.state.pathOf(instance, 'paused');
    const saved = await this.state.read(marker);
    if (!saved) return;
    const paused = JSON.parse(saved) as Paused;
    try {
      process.kill(paused.pid, 'SIGCONT');
    } catch {
      // gone
    }
    if ((await commandLineOf(paused.watchdog))?.includes(WATCHDOG_TAG)) process.kill(paused.watchdog, 'SIGKILL');
    await this.state.remove(marker);
  }

  private async pidOf(instance: Instance): Promise<number> {
    if (!instance.pidFile) throw new Error(`the ${instance.side} instance names no pid file for process faults`);
    const pid = Number((await fs.readFile(instance.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`the pid file ${instance.pidFile} of the ${instance.side} instance holds no process id`);
    if (!(await commandLineOf(pid))) throw new Error(`the ${instance.side} instance's process ${pid} is not running`);
    return pid;
  }
}
