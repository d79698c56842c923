export interface Config {
  releases?: {
    targets?: {
      [name: string]: {
        /**
         * The resilience gate's parts (`type: instances`): the canary and a stable-version instance
         * that takes no production traffic, each with `url` (the load's target) and, per fault kind,
         * `netns`, `dependency`, `proxy` and `pidFile`; `load` (`rps`, `connections`,
         * `timeoutSeconds`); `injectors` (per fault kind: proxy, nftables, signal, stress-ng, or a
         * command pair); `stateDirectory`. See docs/resilience.md.
         */
        resilience?: { type: string; [key: string]: unknown };
      };
    };
  };
}
