/**
 * Group commit: writes that arrive while `maxWriting` batches are being written wait and go
 * together in the next, in one statement. Under load a tick's releases thus cost a few round trips to the database
 * instead of a few each; alone, a write goes at once. `write` says, per item, whether it failed.
 */
export class WriteBatch<T> {
  constructor(
    private readonly write: (items: T[]) => Promise<Array<Error | undefined>>,
    private readonly maxItems = 200,
    /** Batches written at once (each on a connection of its own). */
    private readonly maxWriting = 3,
  ) {}

  #queue: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  #writing = 0;

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#writing < this.maxWriting) this.flush();
    });
  }

  private flush() {
    const batch = this.#queue.splice(0, this.maxItems);
    if (batch.length === 0) return;
    this.#writing++;
    this.write(batch.map(b => b.item))
      .then(
        errors => batch.forEach((b, i) => (errors[i] ? b.reject(errors[i]) : b.resolve())),
        error => batch.forEach(b => b.reject(error)),
      )
      .finally(() => {
        this.#writing--;
        this.flush();
      });
  }
}
