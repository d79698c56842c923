import { GateFault, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { CommandInjectorOptions } from '../config';
import { Instance, InstanceInjector } from '../instances';
import { run } from '../run';
import { StateFiles } from '../state';

/**
 * Your own fault tool (chaosd, the Toxiproxy CLI, Gremlin's CLI): `inject` and `clear` commands,
 * run without a shell, with the fault and the instance in their environment. The command must
 * honour RELEASE_PILOT_TTL_SECONDS itself (chaosd's `--duration`, for example).
 */
export class CommandInjector implements InstanceInjector {
  constructor(private readonly options: CommandInjectorOptions, private readonly state: StateFiles) {}

  async inject(instance: Instance, fault: GateFault, context: ReleaseTargetContext): Promise<void> {
    const marker = this.state.pathOf(instance, 'command');
    if ((await this.state.read(marker)) === fault.id) return;
    await this.exec(this.options.inject, instance, context, fault);
    await this.state.write(marker, fault.id);
  }

  async clear(instance: Instance, context: ReleaseTargetContext): Promise<void> {
    await this.exec(this.options.clear, instance, context);
    await this.state.remove(this.state.pathOf(instance, 'command'));
  }

  private exec(command: string[], instance: Instance, context: ReleaseTargetContext, fault?: GateFault): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      RELEASE_PILOT_ACTION: fault ? 'inject' : 'clear',
      RELEASE_PILOT_INSTANCE: instance.side,
      RELEASE_PILOT_INSTANCE_URL: instance.url,
      RELEASE_PILOT_ENTITY: context.entityRef,
      RELEASE_PILOT_RELEASE_ID: context.releaseId,
      RELEASE_PILOT_VERSION: context.version,
      ...(instance.netns ? { RELEASE_PILOT_NETNS: instance.netns } : {}),
      ...(fault
        ? {
            RELEASE_PILOT_FAULT_ID: fault.id,
            RELEASE_PILOT_FAULT: fault.experiment.fault,
            RELEASE_PILOT_INTENSITY: String(fault.experiment.intensity ?? ''),
            RELEASE_PILOT_DURATION_SECONDS: String(fault.experiment.durationSeconds),
            RELEASE_PILOT_TTL_SECONDS: String(Math.ceil(fault.ttlSeconds)),
          }
        : {}),
    };
    const [program, ...args] = command;
    return run(program, args, { env, timeoutMs: this.options.timeoutSeconds * 1000 });
  }
}
