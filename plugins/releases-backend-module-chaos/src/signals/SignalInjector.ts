import fs from 'node:fs/promises';
import { GateFault } from '@release-pilot/plugin-releases-node';
import { Instance, InstanceInjector } from '../instances';
import { commandLineOf, StateFiles } from '../state';

/**
 * `instanceKill`: SIGKILL to the instance's process (from its pid file), once per fault; the
 * instance's supervisor (systemd, Kubernetes, the stack's own) restarts it, and the recovery
 * phase measures how long that takes. A kill cannot be taken back, so clearing does nothing.
 */
export class SignalInjector implements InstanceInjector {
  constructor(private readonly state: StateFiles) {}

  async inject(instance: Instance, fault: GateFault): Promise<void> {
    if (fault.experiment.fault !== 'instanceKill') throw new Error(`signals cannot inject ${fault.experiment.fault}`);
    if (!instance.pidFile) throw new Error(`the ${instance.side} instance names no pid file to kill`);
    const marker = this.state.pathOf(instance, 'killed');
    if ((await this.state.read(marker)) === fault.id) return;
    const pid = Number((await fs.readFile(instance.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`the pid file ${instance.pidFile} of the ${instance.side} instance holds no process id`);
    if (!(await commandLineOf(pid))) throw new Error(`the ${instance.side} instance's process ${pid} is not running`);
    await this.state.write(marker, fault.id);
    process.kill(pid, 'SIGKILL');
  }

  async clear(): Promise<void> {
    // Nothing to take back.
  }
}
