export interface Config {
  releases?: {
    targets?: {
      [name: string]: {
        /** An HAProxy traffic router (`type: haproxy`); see the module's README for every option. */
        router?: {
          type: string;
          /** host:port of a `stats socket ipv4@host:port level admin`, or unix:/path/to/admin.sock. */
          runtimeApi?: string;
          /** The backend holding both pools; `${entityName}` is filled in. Default `${entityName}`. */
          backend?: string;
          /** Default ['stable']. */
          stableServers?: string[];
          /** Default ['canary']. */
          canaryServers?: string[];
          /** Seconds a runtime API command may take. Default 5. */
          timeoutSeconds?: number;
        };
      };
    };
  };
}
