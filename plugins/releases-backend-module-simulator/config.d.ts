export interface Config {
  releases?: {
    /**
     * The simulated fleet, the demo's target (`release-pilot.io/target: simulator`). The target exists
     * only where this block does and `enabled` is not false.
     */
    simulator?: {
      /** False turns the simulator target off (a production config over the demo's). Default true. */
      enabled?: boolean;
      /** Seed of the simulation; the same seed gives the same traffic. Default 1. */
      seed?: number;
      /** Requests per second of a whole service, split between baseline and canary by weight. Default 2000. */
      rps?: number;
      /** Daily seasonality of the traffic: 0.5 swings it between 50 % and 150 % of `rps`. Default 0. */
      dailyAmplitude?: number;
      /** The busiest hour of the day, UTC. Default 15. */
      peakHourUtc?: number;
      /** How every version behaves unless a fault profile matches it. */
      baseline?: {
        errorRate?: number;
        latencyMs?: { p50?: number; p95?: number };
        /** Named count metrics: the chance a request produces one event, e.g. `orders: 0.03`. */
        counters?: { [name: string]: number };
      };
      /** A canary whose version matches `versionPattern` (a regular expression) behaves so from its first request,
       *  or only while it takes at least `minWeight` percent of the traffic (100: a fault under full load), or
       *  only in its first `firstSeconds` of traffic (a cold start). */
      faults?: Array<{
        versionPattern: string;
        minWeight?: number;
        firstSeconds?: number;
        errorRate?: number;
        latencyMs?: { p50: number; p95: number };
        counters?: { [name: string]: number };
      }>;
      /** The simulated router refuses every weight change of a canary whose version matches, from its first
       *  rollback request until `seconds` later: what a rollback the router refuses looks like. */
      routerOutages?: Array<{ versionPattern: string; seconds: number }>;
      /** The simulated deployer: seconds to roll a side out and until it is ready (default 2 and 1), and
       *  versions whose deploy fails (`fails`) or that never become ready (`neverReady`). */
      deployer?: {
        deploySeconds?: number;
        readySeconds?: number;
        failures?: Array<{ versionPattern: string; kind: 'fails' | 'neverReady' }>;
      };
      /** The fleet in regions too (the `simulator-regions` target): each its traffic on daily average and its time zone. */
      regions?: { [region: string]: { rps: number; utcOffsetHours?: number } };
    };
  };
}
