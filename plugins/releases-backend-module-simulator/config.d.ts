export interface Config {
  releases?: {
    /** The simulated fleet, the embedded default target (`release-pilot.io/target: simulator`). */
    simulator?: {
      /** Seed of the simulation; the same seed gives the same traffic. Default 1. */
      seed?: number;
      /** Requests per second of a whole service, split between baseline and canary by weight. Default 2000. */
      rps?: number;
      /** How every version behaves unless a fault profile matches it. */
      baseline?: {
        errorRate?: number;
        latencyMs?: { p50?: number; p95?: number };
      };
      /** A canary whose version matches `versionPattern` (a regular expression) behaves so from its first request. */
      faults?: Array<{
        versionPattern: string;
        errorRate: number;
        latencyMs: { p50: number; p95: number };
      }>;
    };
  };
}
