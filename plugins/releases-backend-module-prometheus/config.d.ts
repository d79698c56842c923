export interface Config {
  releases?: {
    targets?: {
      [name: string]: {
        /** A Prometheus metric provider (`type: prometheus`); see the module's README for every option. */
        metrics?: {
          type: string;
          /** Prometheus' address, e.g. http://prometheus:9090. */
          baseUrl?: string;
          /** Seconds a query may take. Default 5. */
          timeoutSeconds?: number;
          auth?: {
            /** @visibility secret */
            bearerToken?: string;
            username?: string;
            /** @visibility secret */
            password?: string;
          };
          /** Label matchers per side; `${entityName}`, `${namespace}`, `${kind}`, `${version}` are filled in. */
          selectors?: { canary?: string; baseline?: string; service?: string };
          /** Expressions of cumulative counters with `${selector}`. */
          queries?: {
            requests?: string;
            errors?: string;
            latencyBuckets?: string;
            counters?: { [name: string]: string };
          };
          /** Unit of the histogram's `le` label. Default seconds. */
          latencyUnit?: 'seconds' | 'milliseconds';
          /** Many releases' samples in one query per metric (windowMs 0: none). */
          batch?: { windowMs?: number; maxReleases?: number };
        };
      };
    };
  };
}
