/**
 * Runs work with at most `total` jobs at once, and at most `perKey` of them with one key (a target):
 * a target whose provider is slow fills its own slots, never all of them. Keys take turns.
 */
export class Limiter {
  constructor(
    private readonly total: number,
    private readonly perKey: number,
  ) {}

  #running = 0;
  readonly #byKey = new Map<string, number>();
  /** Jobs waiting, per key in the order they came; keys in the order they first waited. */
  readonly #waiting = new Map<string, Array<() => void>>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running++;
        this.#byKey.set(key, (this.#byKey.get(key) ?? 0) + 1);
        job()
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            const left = this.#byKey.get(key)! - 1;
            if (left > 0) this.#byKey.set(key, left);
            else this.#byKey.delete(key);
            this.next();
          });
      };
      const queue = this.#waiting.get(key);
      if (queue) queue.push(start);
      else this.#waiting.set(key, [start]);
      this.next();
    });
  }

  /** Starts waiting jobs of keys with a free slot, one key after another, while any slot is free. */
  private next() {
    let started = true;
    while (started && this.#running < this.total) {
      started = false;
      for (const [key, queue] of this.#waiting) {
        if (this.#running >= this.total) return;
        if ((this.#byKey.get(key) ?? 0) >= this.perKey) continue;
        const start = queue.shift()!;
        if (queue.length === 0) this.#waiting.delete(key);
        start();
        started = true;
      }
    }
  }
}
