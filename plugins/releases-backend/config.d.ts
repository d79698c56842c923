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
    /** Thresholds of the fixed-rule judge. */
    judge?: {
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
