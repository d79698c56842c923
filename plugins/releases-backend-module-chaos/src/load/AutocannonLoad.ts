import autocannon from 'autocannon';
import { GateTick } from '@release-pilot/plugin-releases-common';
import { GateLoad, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { InstancesResilienceOptions } from '../config';
import { instancesOf, Side } from '../instances';

/** Answers kept per side between two reads; beyond it only counts grow (the judge keeps a few thousand anyway). */
const MAX_LATENCIES = 20_000;
/** A load nobody read for this long is stopped: its release moved on, or went to another replica. */
const IDLE_MS = 60_000;

interface SideLoad {
  instance: autocannon.Instance;
  tick: GateTick;
}

interface ReleaseLoad {
  sides: Record<Side, SideLoad>;
  lastReadAt: number;
  idle: NodeJS.Timeout;
}

/**
 * The gate's synthetic load, with autocannon: `rps` requests per second at each of the release's
 * two instances over `connections` keep-alive connections, the same load on both. Each read hands
 * over what both sides answered since the previous one: a non-2xx answer, a timeout or a refused
 * connection is an error.
 */
export class AutocannonLoad implements GateLoad {
  readonly #loads = new Map<string, ReleaseLoad>();

  constructor(private readonly options: InstancesResilienceOptions, private readonly now: () => number = Date.now) {}

  async read(context: ReleaseTargetContext): Promise<{ canary: GateTick; stable: GateTick; seconds: number }> {
    const load = this.#loads.get(context.releaseId) ?? this.start(context);
    const now = this.now();
    const seconds = Math.max(0, (now - load.lastReadAt) / 1000);
    load.lastReadAt = now;
    load.idle.refresh();
    const take = (side: SideLoad): GateTick => {
      const tick = side.tick;
      side.tick = { requests: 0, errors: 0, latenciesMs: [] };
      return tick;
    };
    return { canary: take(load.sides.canary), stable: take(load.sides.stable), seconds };
  }

  async stop(context: ReleaseTargetContext): Promise<void> {
    const load = this.#loads.get(context.releaseId);
    if (!load) return;
    this.#loads.delete(context.releaseId);
    clearTimeout(load.idle);
    load.sides.canary.instance.stop();
    load.sides.stable.instance.stop();
  }

  /** Loads running now, by release id (tests, and a clean shutdown). */
  running(): string[] {
    return [...this.#loads.keys()];
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map(releaseId => this.stop({ releaseId } as ReleaseTargetContext)));
  }

  private start(context: ReleaseTargetContext): ReleaseLoad {
    const instances = instancesOf(this.options, context);
    const side = (which: Side): SideLoad => {
      const { rps, connections, timeoutSeconds } = this.options.load;
      const sideLoad: SideLoad = {
        tick: { requests: 0, errors: 0, latenciesMs: [] },
        instance: autocannon({ url: instances[which].url, connections, overallRate: rps, duration: 86_400, timeout: timeoutSeconds }, () => undefined),
      };
      const record = (error: boolean, latencyMs?: number) => {
        const tick = sideLoad.tick;
        tick.requests++;
        if (error) tick.errors++;
        if (latencyMs !== undefined && tick.latenciesMs.length < MAX_LATENCIES) tick.latenciesMs.push(latencyMs);
      };
      sideLoad.instance.on('response', (_client, statusCode, _bytes, responseTime) => record(statusCode < 200 || statusCode >= 300, responseTime));
      // A timeout took the whole timeout; a refused or reset connection has no latency to speak of.
      sideLoad.instance.on('reqError', (error: Error) => record(true, /timed? ?out/i.test(error?.message ?? '') ? timeoutSeconds * 1000 : undefined));
      return sideLoad;
    };
    const load: ReleaseLoad = {
      sides: { canary: side('canary'), stable: side('stable') },
      lastReadAt: this.now(),
      idle: setTimeout(() => void this.stop(context), IDLE_MS),
    };
    load.idle.unref();
    this.#loads.set(context.releaseId, load);
    return load;
  }
}
