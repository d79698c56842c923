export interface Config {
  /** Release Pilot */
  releases?: {
    engine?: {
      /** Seconds between driver ticks; at least 1. Default 5. */
      tickSeconds?: number;
      /**
       * How long a replica's hold on the releases it drives lasts without renewal (it renews three
       * times per lease on a timer of its own, however long a tick takes); another replica takes them
       * over after it. At least one tick. Default two ticks (at least 2 s).
       */
      leaseSeconds?: number;
      /** Releases one replica drives at once. Default 256. */
      concurrency?: number;
      /** Of those, at most this many on one target, so a slow provider holds up only its own target's releases. Default 64. */
      concurrencyPerTarget?: number;
      /** A router, metric provider or deployer call slower than this counts as a provider error (a history read gets 3x). Default 10. */
      providerTimeoutSeconds?: number;
      /**
       * On PostgreSQL, a tick that only measured writes the judge's state (about 10 KB) at most this
       * often; the replica that drives the release next judges the samples stored since again. 0: every tick. Default 10.
       */
      judgeStateSeconds?: number;
      /** Provider errors (or ticks without any data) in a row after which a release rolls back; each holds the weight. Default 60 (five minutes at a 5 s tick). */
      maxConsecutiveProviderErrors?: number;
    };
    /** What is kept of an ended release's samples (a sample per tick while it runs). */
    retention?: {
      /** Minutes after a release ended before its samples are compacted. Default 60. */
      compactAfterMinutes?: number;
      /** Compacted samples: one per this many seconds, step and weight (the counts summed). Default 30. */
      sampleBucketSeconds?: number;
    };
    /** The plan used when neither the request nor the entity names one. Default `default`. */
    defaultPlan?: string;
    /**
     * Named plans. `strategy: canary` (the default) lists its steps, rising in weight and ending at 100;
     * the other strategies derive their steps from a few numbers.
     */
    /**
     * Named chaos experiments for resilience gates, listed by name per target
     * (`targets.<name>.experiments`) or per entity (`release-pilot.io/experiments`).
     */
    experiments?: {
      [name: string]: { name?: string; fault: string; durationSeconds: number; intensity?: number; recoverySeconds?: number };
    };
    plans?: {
      [name: string]: {
        /** canary (default), blueGreen, progressive or rolling. */
        strategy?: 'canary' | 'blueGreen' | 'progressive' | 'rolling';
        /** canary: the steps. */
        steps?: Array<{
          weight: number;
          minDurationSeconds: number;
          minCanaryRequests?: number;
        }>;
        /** Seconds to watch the service against its own history after the last step (0: none). Default 0; the built-in `default` plan watches 600 s. */
        watchSeconds?: number;
        /**
         * Seconds after the release starts in which the new version's metrics are stored but not judged and
         * no step advances (0 to 3600; default 0): a cold process's first slow requests do not roll it back.
         */
        warmUpSeconds?: number;
        /** blueGreen: seconds of analysis on the router's preview path at weight 0. */
        previewSeconds?: number;
        /** blueGreen: preview requests needed before the switch. Default 0. */
        previewRequests?: number;
        /** blueGreen: seconds watched after the switch, the old version kept for an instant switch back. */
        bakeSeconds?: number;
        /** progressive: weight added per step (10 gives 10, 20, ..., 100). */
        stepPercent?: number;
        /** progressive: seconds per step. */
        stepSeconds?: number;
        /** rolling: batches of instances, one step each. */
        batches?: number;
        /** rolling: seconds per batch. */
        batchSeconds?: number;
        /** progressive, rolling: canary requests needed per step. Default 0. */
        minCanaryRequests?: number;
      };
    };
    /**
     * Named targets, by the `release-pilot.io/target` annotation's value. An entry with `router` and
     * `metrics` builds a target from installed module types (e.g. `haproxy` + `prometheus`); an entry
     * without them sets the policies of a module-registered target (e.g. `simulator`).
     */
    targets?: {
      [name: string]: {
        /** The traffic router: `type` names an installed router type; the other keys are its module's options. */
        router?: { type: string; [option: string]: unknown };
        /** The metric provider: `type` names an installed provider type; the other keys are its module's options. */
        metrics?: { type: string; [option: string]: unknown };
        /**
         * The deployer: `none` (the pipeline deploys and confirms each side through `POST /releases/:id/deployed`),
         * or an installed type (`kubernetes`, `command`) with its module's options. Without it Release Pilot only moves traffic.
         */
        deployer?: { type: string; [option: string]: unknown };
        /** Seconds a deploy, promotion or scale-down may take. Default 600. */
        deployTimeoutSeconds?: number;
        /**
         * A target spanning regions or clusters: each with its own `router`, `metrics` and `deployer`
         * (then not set at the top). A release goes region by region in `waves`.
         */
        regions?: {
          [region: string]: {
            router: { type: string; [option: string]: unknown };
            metrics: { type: string; [option: string]: unknown };
            deployer?: { type: string; [option: string]: unknown };
            deployTimeoutSeconds?: number;
          };
        };
        /**
         * The waves of a release across the regions: at most `maxParallel` regions at once (default 4),
         * `bakeSeconds` between waves (default 0), `failurePolicy` `rollbackAll` (default) or `hold`, and
         * explicit `waves` (default: 1, 2, 4, the rest, the quietest region relative to its daily average first).
         */
        waves?: { maxParallel?: number; bakeSeconds?: number; failurePolicy?: 'rollbackAll' | 'hold'; waves?: string[][] };
        /** The judge (a key of `releases.judges`) judging entities without a `release-pilot.io/judge` annotation. */
        judge?: string;
        /** @deprecated The old name of `judge`. */
        analysis?: string;
        /** Provider errors in a row this target tolerates (holding the step) before the release rolls back. Default: `engine.maxConsecutiveProviderErrors`. */
        maxConsecutiveProviderErrors?: number;
        /** The resilience gate's experiments for releases on this target (names in `releases.experiments`), when the plan and the entity list none. */
        experiments?: string[];
        /**
         * What an entity's annotations may set, by the annotation's name after `release-pilot.io/`
         * (`haproxy-backend`, `prometheus-canary-selector`, `kubernetes-namespace`, ...): value patterns
         * with `${entityName}`, `${namespace}`, `${kind}` and `*`. An annotation without patterns is not
         * the entity's to set; the target's own config decides.
         */
        allow?: { [annotation: string]: string[] };
      };
    };
    /** Release risk: the gate, the plan it shapes, and the model's training. */
    risk?: {
      /** Above this predicted probability of failure a release is blocked unless overridden. Default 0.85. */
      blockThreshold?: number;
      /** Per owning team (group entity ref or name): its own block threshold. */
      teams?: { [team: string]: { blockThreshold: number } };
      /** Below this probability the plan runs faster (steps half as long). Default 0.1. */
      lowRiskBelow?: number;
      /** At or above this probability (or when busy) the plan gets smaller steps, longer windows and a manual gate before 50 %. Default 0.5. */
      highRiskAbove?: number;
      /** Traffic this many times the usual for the time of day counts as busy. Default 1.5. */
      busyTrafficRatio?: number;
      /** Finished releases with features (plus imported history) needed before the forest replaces the prior. Default 200. */
      minTrainingRows?: number;
      /** Hours between trainings. Default 24. */
      retrainHours?: number;
    };
    /** The post-release watch: after the last step, each metric of the service against its own history at this time of day. */
    watch?: {
      /** History bucket and comparison window, seconds. Default 30. */
      bucketSeconds?: number;
      /** Days of history before the release the expectation rests on. Default 7. */
      historyDays?: number;
      /** The same time of day plus or minus this many seconds counts as the same phase. Default 900. */
      neighbourhoodSeconds?: number;
      /** An anomaly is this many robust standard deviations off the usual value. Default 5. */
      threshold?: number;
      /** ... lasting at least this many seconds. Default 10. */
      forSeconds?: number;
      /** Fewer requests in the window: error rate and latency are inconclusive. Default 50. */
      minRequests?: number;
      /** Roll back on an anomaly, or alert the owners and keep the version. Default `rollback`. */
      onAnomaly?: 'rollback' | 'alert';
      /** Error rate: default higher is worse, 50 % minimum effect. */
      errorRate?: { enabled?: boolean; direction?: 'higher' | 'lower' | 'both'; minEffect?: number };
      /** The latency quantile (default 0.95): default higher is worse, 20 % minimum effect. */
      latency?: { enabled?: boolean; direction?: 'higher' | 'lower' | 'both'; minEffect?: number; quantile?: number };
      /** Requests per second: default lower is worse (clients that stopped coming), 30 % minimum effect. */
      requestRate?: { enabled?: boolean; direction?: 'higher' | 'lower' | 'both'; minEffect?: number };
    };
    /**
     * Named judges an entity picks with the `release-pilot.io/judge` annotation; each has the
     * shape of `judge` below (type, its options and its limits).
     */
    judges?: { [name: string]: { type?: 'sequential' | 'fixed' | 'threshold' | 'kayenta'; [option: string]: unknown } };
    /** @deprecated The old name of `judges`; still read, with a warning at start-up. */
    analyses?: { [name: string]: { type?: 'sequential' | 'fixed' | 'threshold' | 'kayenta'; [option: string]: unknown } };
    /** The default judge: `sequential` (anytime-valid tests), `fixed` (ratio thresholds), `threshold` or `kayenta`. */
    judge?: {
      type?: 'sequential' | 'fixed' | 'threshold' | 'kayenta';
      /** Kayenta mode: the Mann-Whitney classifier of Spinnaker's NetflixACAJudge, re-run on the latest ticks. */
      kayenta?: {
        /** Ticks per series. Default 30. */
        windowTicks?: number;
        /** Fewer points on a side: inconclusive. Default 5. */
        minPoints?: number;
        direction?: 'increase' | 'decrease' | 'either';
        nanStrategy?: 'remove' | 'replace';
        critical?: boolean;
        dataRequired?: boolean;
        tolerance?: number;
        confidenceLevel?: number;
        effectSizeMeasure?: 'meanRatio' | 'cles';
        effectSizeThresholds?: number[];
        criticalThresholds?: number[];
        outliers?: { strategy?: 'keep' | 'remove'; factor?: number };
        /** Weights (percent) of the groups `errorRate` and `p95LatencyMs`; unweighted groups share the rest. */
        groupWeights?: { errorRate?: number; p95LatencyMs?: number };
        /** Score thresholds: pass at or above `pass`, marginal at or above `marginal`. Default 95 and 75. */
        thresholds?: { pass?: number; marginal?: number };
      };
      /** Threshold judge: bounds on the canary's own values per tick. */
      threshold?: {
        metrics: Array<{ metric: 'errorRate' | 'p95LatencyMs'; min?: number; max?: number }>;
        /** Canary requests a tick needs to count; default 10. */
        minRequests?: number;
      };
      /** Failed measurements tolerated over the steps (and over the watch); one more rolls back. Any judge; default 0. */
      failureLimit?: number;
      /** Inconclusive measurements tolerated; one more pauses (alerts during the watch). Any judge; default none. */
      inconclusiveLimit?: number;
      /** Provider errors in a row tolerated; one more rolls back. Default the target's or the engine's maxConsecutiveProviderErrors. */
      consecutiveErrorLimit?: number;
      /** Sequential: the false-rollback probability per metric over a whole release. Default 0.01. */
      alpha?: number;
      /** Sequential: error rate, with the tolerance (0.2 = 20 % worse is acceptable), whether it rolls back or pauses, and which way is worse (default higher). */
      errorRate?: { minEffect?: number; critical?: boolean; direction?: 'higher' | 'lower' | 'both' };
      /**
       * Sequential: per quantile (default p50, p95 and p99, each at alpha / their number), the share of
       * requests slower than the baseline's quantile plus `minEffect` (0.2) and `minEffectMs` (10).
       * `quantile` (one) is the older form of `quantiles`.
       */
      latency?: {
        quantiles?: number[];
        quantile?: number;
        minEffect?: number;
        minEffectMs?: number;
        critical?: boolean;
        direction?: 'higher' | 'lower' | 'both';
      };
      /** Sequential: named count metrics the target reports per side (events per request), e.g. `orders: { direction: lower }`. Default tolerance 0.1. */
      counters?: { [name: string]: { minEffect?: number; critical?: boolean; direction?: 'higher' | 'lower' | 'both' } };
      /** Sequential: judge the ticks where the canary serves alone (100 %) against the baseline's earlier rate (errors, counters). Default true. */
      compareCanaryAlone?: boolean;
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
