/** The only source of time for the engine and the driver: real in production, virtual in tests. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to, for tests and fast-forward simulations. */
export class VirtualClock implements Clock {
  #nowMs: number;

  constructor(start: Date | string = '2026-01-01T00:00:00.000Z') {
    this.#nowMs = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#nowMs);
  }

  advance(seconds: number): Date {
    this.#nowMs += seconds * 1000;
    return this.now();
  }
}
