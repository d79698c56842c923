export interface Config {
  /** Release Pilot */
  releases?: {
    engine?: {
      /** Seconds between driver ticks; at least 1. Default 5. */
      tickSeconds?: number;
      /** Provider errors in a row after which a release rolls back. Default 10. */
      maxConsecutiveProviderErrors?: number;
    };
    /** The plan used when neither the request nor the entity names one. Default `default`. */
    defaultPlan?: string;
    /** Named plans: ordered steps, rising in weight, ending at 100. */
    plans?: {
      [name: string]: {
        steps: Array<{
          weight: number;
          minDurationSeconds: number;
          minCanaryRequests?: number;
        }>;
      };
    };
    /**
     * Named analyses an entity picks with the `release-pilot.io/analysis` annotation; each has the
     * shape of `judge` below (type and its options).
     */
    analyses?: { [name: string]: { type?: 'sequential' | 'fixed' | 'threshold'; [option: string]: unknown } };
    /** The default judge: `sequential` (anytime-valid tests), `fixed` (ratio thresholds) or `threshold`. */
    judge?: {
      type?: 'sequential' | 'fixed' | 'threshold';
      /** Threshold judge: bounds on the canary's own values per tick, with Argo-style limits. */
      threshold?: {
        metrics: Array<{ metric: 'errorRate' | 'p95LatencyMs'; min?: number; max?: number }>;
        /** Failed measurements tolerated; default 3. */
        failureLimit?: number;
        /** Inconclusive measurements tolerated before pausing; default 30. */
        inconclusiveLimit?: number;
        /** Canary requests a tick needs to count; default 10. */
        minRequests?: number;
      };
      /** Sequential: the false-rollback probability per metric over a whole release. Default 0.01. */
      alpha?: number;
      /** Sequential: error rate, with the tolerance (0.2 = 20 % worse is acceptable) and whether it rolls back or pauses. */
      errorRate?: { minEffect?: number; critical?: boolean };
      /** Sequential: the share of requests slower than the baseline's quantile. */
      latency?: { quantile?: number; minEffect?: number; critical?: boolean };
      errorRateFailRatio?: number;
      minCanaryErrors?: number;
      p95FailRatio?: number;
      p95WarnRatio?: number;
      minRequests?: number;
      /** Seconds of the current step the judge looks back over. Default 30. */
      windowSeconds?: number;
    };
  };
}
