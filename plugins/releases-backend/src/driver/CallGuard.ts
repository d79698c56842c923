import { ReleaseTarget, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';

/** The provider calls a guard times out and counts, by the part of a target that answers them. */
const GUARDED_CALLS = {
  trafficRouter: ['setCanaryWeight', 'getCanaryWeight'],
  metricProvider: ['getSample', 'getHistory'],
  deployer: ['ensure', 'scaleDownCanary', 'readSides'],
} as const;

/** A history read covers days of data: it gets this many times the timeout of other calls. */
const HISTORY_TIMEOUT_FACTOR = 3;

/** A provider call that did not answer within its timeout; the release's tick gets it as a provider error. */
export class ProviderTimeoutError extends Error {
  constructor(target: string, call: string, seconds: number) {
    super(`${call} of target '${target}' did not answer within ${seconds} s`);
    this.name = 'ProviderTimeoutError';
  }
}

/**
 * Every call a release's tick makes to a target's router, metric provider or deployer goes through
 * here: it fails after `timeoutSeconds` (the tick moves on and the engine counts a provider error),
 * is counted per kind (the scale benchmark's provider calls per tick), and stays known as pending
 * until the provider really answers. A release with a call still pending is not driven again: a
 * router call that timed out but lands late can never overtake a newer one of the same release.
 */
export class CallGuard {
  constructor(private readonly timeoutSeconds: number) {}

  /** Calls made so far, by `<part>.<method>`. */
  readonly counts = new Map<string, number>();
  readonly #pending = new Map<string, number>();

  /** Whether a call of this release has not answered yet (timed out, still running). */
  hasPending(releaseId: string): boolean {
    return (this.#pending.get(releaseId) ?? 0) > 0;
  }

  /** The releases with a call not answered yet. */
  pendingIds(): string[] {
    return [...this.#pending.keys()];
  }

  /** All calls counted so far. */
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** The target with each of its parts' calls guarded; the same object when it has none of them. */
  target(target: ReleaseTarget): ReleaseTarget {
    const guarded: ReleaseTarget = { ...target };
    for (const part of Object.keys(GUARDED_CALLS) as Array<keyof typeof GUARDED_CALLS>) {
      const value = target[part];
      if (value) (guarded as any)[part] = this.part(target.name, part, value, GUARDED_CALLS[part]);
    }
    return guarded;
  }

  private part<T extends object>(targetName: string, part: string, value: T, methods: readonly string[]): T {
    return new Proxy(value, {
      get: (obj, prop, receiver) => {
        const member = Reflect.get(obj, prop, receiver);
        if (typeof member !== 'function' || typeof prop !== 'string' || !methods.includes(prop)) return member;
        return (...args: unknown[]) => this.call(targetName, `${part}.${prop}`, args[0] as ReleaseTargetContext | undefined, () => member.apply(obj, args));
      },
    });
  }

  private call<R>(targetName: string, name: string, context: ReleaseTargetContext | undefined, run: () => Promise<R>): Promise<R> {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const id = context?.releaseId;
    if (id) this.#pending.set(id, (this.#pending.get(id) ?? 0) + 1);
    const settled = () => {
      if (!id) return;
      const left = (this.#pending.get(id) ?? 1) - 1;
      if (left > 0) this.#pending.set(id, left);
      else this.#pending.delete(id);
    };
    const call = Promise.resolve().then(run);
    call.then(settled, settled);
    const seconds = this.timeoutSeconds * (name.endsWith('getHistory') ? HISTORY_TIMEOUT_FACTOR : 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProviderTimeoutError(targetName, name, seconds)), seconds * 1000);
      timer.unref?.();
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }
}
