export interface Config {
  releases?: {
    targets?: {
      [name: string]: {
        /** A Kubernetes traffic router (`type: gateway-api` or `type: istio`); see the module's README for every option. */
        router?: {
          type: string;
          /** A cluster name from kubernetes.clusterLocatorMethods (type config), or an inline cluster. */
          cluster?:
            | string
            | {
                url: string;
                /** @visibility secret */
                serviceAccountToken: string;
                skipTLSVerify?: boolean;
                caData?: string;
                caFile?: string;
              };
          /** Default `default`; entities override it with release-pilot.io/kubernetes-namespace. */
          namespace?: string;
          /** The HTTPRoute or VirtualService. Default `${entityName}`. */
          route?: string;
          /** Default `${entityName}-stable`. */
          stableService?: string;
          /** Default `${entityName}-canary`. */
          canaryService?: string;
          /** Istio: subsets instead of hosts. */
          stableSubset?: string;
          canarySubset?: string;
          /** Default v1. */
          apiVersion?: string;
          canaryDeployment?: { name?: string; container: string; image: string };
          /** Seconds an API call may take. Default 10. */
          timeoutSeconds?: number;
        };
      };
    };
  };
}
