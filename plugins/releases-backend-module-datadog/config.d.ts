export interface Config {
  releases?: {
    targets?: {
      [name: string]: {
        /** A Datadog metric provider (`type: datadog`); see the module's README for every option. */
        metrics?: {
          type: string;
          /** The Datadog site's API address. Default https://api.datadoghq.com. */
          site?: string;
          /** @visibility secret */
          apiKey?: string;
          /** @visibility secret */
          applicationKey?: string;
          /** Seconds a request may take. Default 10. */
          timeoutSeconds?: number;
          /** Each sample asks for its interval this many seconds earlier (Datadog's points arrive late). Default 30. */
          delaySeconds?: number;
          /** Tag scopes per side; `${entityName}`, `${namespace}`, `${kind}`, `${version}` are filled in. */
          scopes?: { canary?: string; baseline?: string; service?: string };
          /** Count queries with `{${scope}}`, and the latency as buckets or a distribution's percentiles. */
          queries?: {
            requests?: string;
            errors?: string;
            latency?:
              | { buckets: string; unit?: 'seconds' | 'milliseconds'; cumulative?: boolean }
              | { distribution: string; unit?: 'seconds' | 'milliseconds'; percentiles?: number[]; boundsMs?: number[] };
            counters?: { [name: string]: string };
          };
          /** After a 429 without a reset time. */
          backoff?: { initialSeconds?: number; maxSeconds?: number };
        };
      };
    };
  };
}
