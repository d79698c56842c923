export interface Config {
  releases?: {
    /** Teams on Argo Rollouts: where the entities' Rollouts run (see the module's docs). */
    argoRollouts?: {
      cluster: {
        /** The Kubernetes API server, e.g. https://kubernetes.example.com. */
        url: string;
        /** @visibility secret */
        serviceAccountToken: string;
        /** @visibility secret */
        caData?: string;
        skipTLSVerify?: boolean;
      };
      /** The namespace of an entity's Rollout by default. */
      namespace?: string;
      /** Namespaces an entity's release-pilot.io/argo-rollout-namespace may name. */
      allowNamespaces?: string[];
      /** Rollout names an entity may name; default ['${entityName}', '${entityName}-*']. */
      allowNames?: string[];
      timeoutSeconds?: number;
    };
  };
}
