import { spawn } from 'node:child_process';
import { GateFault } from '@release-pilot/plugin-releases-node';
import { Instance, InstanceInjector } from '../instances';
import { commandLineOf, StateFiles } from '../state';

/**
 * `cpuPressure` and `memoryPressure` with Debian's stress-ng: one CPU worker per instance at the
 * fault's load (%), or one VM worker taking the fault's share (%) of memory, for the fault's TTL (stress-ng's own `--timeout`, so it stops by itself if the backend dies). Its
 * process id goes to the state directory, so a restarted backend or another replica stops it.
 */
export class StressInjector implements InstanceInjector {
  constructor(private readonly state: StateFiles, private readonly program = 'stress-ng') {}

  async inject(instance: Instance, fault: GateFault): Promise<void> {
    const kind = fault.experiment.fault;
    if (kind !== 'cpuPressure' && kind !== 'memoryPressure') throw new Error(`stress-ng cannot inject ${kind}`);
    const file = this.state.pathOf(instance, 'stress');
    const running = await this.running(file);
    if (running?.id === fault.id) return;
    if (running) await this.stop(file, running.pid);
    const share = Math.round(Math.min(Math.max(fault.experiment.intensity ?? (kind === 'cpuPressure' ? 80 : 50), 1), 100));
    const stressor = kind === 'cpuPressure' ? ['--cpu', '1', '--cpu-load', String(share)] : ['--vm', '1', '--vm-bytes', `${share}%`, '--vm-keep'];
    const child = spawn(this.program, [...stressor, '--timeout', `${Math.max(1, Math.ceil(fault.ttlSeconds))}s`, '--quiet'], {
      detached: true,
      stdio: 'ignore',
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', error => reject(new Error(`could not start ${this.program}: ${error.message}`)));
    });
    child.unref();
    await this.state.write(file, JSON.stringify({ id: fault.id, pid }));
  }

  async clear(instance: Instance): Promise<void> {
    const file = this.state.pathOf(instance, 'stress');
    const running = await this.running(file);
    if (running) await this.stop(file, running.pid);
    else await this.state.remove(file);
  }

  /** The stress-ng this injector started for the instance, if it still runs (a recycled pid is not it). */
  private async running(file: string): Promise<{ id: string; pid: number } | undefined> {
    const saved = await this.state.read(file);
    if (!saved) return undefined;
    const { id, pid } = JSON.parse(saved) as { id: string; pid: number };
    return (await commandLineOf(pid))?.includes('stress-ng') ? { id, pid } : undefined;
  }

  private async stop(file: string, pid: number): Promise<void> {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.state.remove(file);
  }
}
