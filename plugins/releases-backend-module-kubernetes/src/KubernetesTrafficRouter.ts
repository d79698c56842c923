import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { AnnotationRule, ReleaseTargetContext, StaleFencingTokenError, TrafficRouter } from '@release-pilot/plugin-releases-node';
import { ClusterOptions, KubernetesRouterOptions } from './config';
import { describeError, fill, fillName, KUBERNETES_NAME, KUBERNETES_NAMESPACE, kubeConfigFor, withTimeout } from './kube';

/** Annotations an entity overrides the target's namespace and route with. */
export const KUBERNETES_ANNOTATIONS = {
  namespace: 'release-pilot.io/kubernetes-namespace',
  route: 'release-pilot.io/kubernetes-route',
} as const;

/**
 * How the entity annotations the router and the deployer read must look (`${entityName}` may stand
 * in a name), and the target's own namespace and route; the two together name an entity's route.
 */
export function kubernetesAnnotationRules(options: { namespace: string; route?: string }): AnnotationRule[] {
  const claim = options.route === undefined ? undefined : 'kubernetes-route';
  return [
    { annotation: KUBERNETES_ANNOTATIONS.namespace, rule: KUBERNETES_NAMESPACE, default: options.namespace, claim },
    { annotation: KUBERNETES_ANNOTATIONS.route, rule: KUBERNETES_NAME, default: options.route, claim },
  ];
}

/** The route's annotation that keeps the fencing token of the last weight change Release Pilot applied. */
export const FENCING_TOKEN_ANNOTATION = 'release-pilot.io/fencing-token';

type Options = KubernetesRouterOptions & { cluster: ClusterOptions };

/** A JSON Patch operation (RFC 6902). */
export type JsonPatchOp = { op: 'test' | 'replace' | 'add'; path: string; value: unknown };

/** Where in a route object the weights of each side live. */
interface WeightSlot {
  path: string;
  side: 'canary' | 'stable';
  weight: number;
}

/** How one kind of route keeps its backends: Gateway API HTTPRoute or Istio VirtualService. */
interface RouteKind {
  group: string;
  plural: string;
  kind: string;
  slots(route: any, sideOf: (backend: any) => 'canary' | 'stable' | undefined): WeightSlot[];
}

const GATEWAY_API: RouteKind = {
  group: 'gateway.networking.k8s.io',
  plural: 'httproutes',
  kind: 'HTTPRoute',
  slots(route, sideOf) {
    return (route?.spec?.rules ?? []).flatMap((rule: any, i: number) =>
      (rule.backendRefs ?? []).flatMap((ref: any, j: number) => {
        const side = sideOf(ref);
        // Gateway API: an absent weight means 1.
        return side ? [{ path: `/spec/rules/${i}/backendRefs/${j}/weight`, side, weight: ref.weight ?? 1 }] : [];
      }),
    );
  },
};

const ISTIO: RouteKind = {
  group: 'networking.istio.io',
  plural: 'virtualservices',
  kind: 'VirtualService',
  slots(route, sideOf) {
    return (route?.spec?.http ?? []).flatMap((http: any, i: number) => {
      const routes = http.route ?? [];
      return routes.flatMap((r: any, j: number) => {
        const side = sideOf(r.destination);
        // Istio: a single destination without weight takes all the traffic.
        const weight = r.weight ?? (routes.length === 1 ? 100 : 0);
        return side ? [{ path: `/spec/http/${i}/route/${j}/weight`, side, weight }] : [];
      });
    });
  },
};

/**
 * Shifts traffic by the weights of a Gateway API `HTTPRoute` (backendRefs) or an Istio
 * `VirtualService` (http routes). Each change is one JSON Patch that first tests the route's
 * `resourceVersion` (so a concurrent edit is never overwritten) and replaces only the weights of
 * the canary and stable backends; other backends and fields are left alone. With a fencing token
 * the same patch records it in the route's `release-pilot.io/fencing-token` annotation, and a call
 * with a lower token than the route's is refused: read, compare and the resourceVersion-tested
 * patch make a compare-and-set, so a replica frozen past its lease cannot move traffic after
 * another acted. Versions get onto the Deployments through the `kubernetes` deployer.
 */
export class KubernetesTrafficRouter implements TrafficRouter {
  readonly annotationRules: readonly AnnotationRule[];
  private readonly kind: RouteKind;
  private readonly objects: CustomObjectsApi;

  constructor(private readonly options: Options) {
    this.annotationRules = kubernetesAnnotationRules(options);
    this.kind = options.type === 'istio' ? ISTIO : GATEWAY_API;
    const kc = kubeConfigFor(options.cluster);
    this.objects = kc.makeApiClient(CustomObjectsApi);
  }

  /** The route of a release's entity: namespace, name and which backend is which side. */
  private where(context: ReleaseTargetContext) {
    const o = this.options;
    const namespace = fillName(context.annotations[KUBERNETES_ANNOTATIONS.namespace] ?? o.namespace, context, KUBERNETES_NAMESPACE, 'The Kubernetes namespace');
    const name = fillName(context.annotations[KUBERNETES_ANNOTATIONS.route] ?? o.route, context, KUBERNETES_NAME, 'The route');
    const canary = fillName(o.canaryService, context, KUBERNETES_NAME, 'The canary service');
    const stable = fillName(o.stableService, context, KUBERNETES_NAME, 'The stable service');
    const sideOf = (backend: any): 'canary' | 'stable' | undefined => {
      if (!backend) return undefined;
      if (this.kind === ISTIO && o.canarySubset !== undefined) {
        if (backend.subset === o.canarySubset) return 'canary';
        if (backend.subset === o.stableSubset) return 'stable';
        return undefined;
      }
      const host = this.kind === ISTIO ? String(backend.host ?? '').split('.')[0] : backend.name;
      if (host === canary) return 'canary';
      if (host === stable) return 'stable';
      return undefined;
    };
    return { namespace, name, sideOf, label: `${this.kind.kind} ${namespace}/${name}` };
  }

  private async getRoute(context: ReleaseTargetContext) {
    const { namespace, name, sideOf, label } = this.where(context);
    const request = { group: this.kind.group, version: this.options.apiVersion, namespace, plural: this.kind.plural, name };
    const route = await withTimeout(this.objects.getNamespacedCustomObject(request), this.options.timeoutSeconds, `reading ${label}`).catch(
      error => {
        throw describeError(error, `reading ${label}`);
      },
    );
    const slots = this.kind.slots(route, sideOf);
    if (!slots.some(s => s.side === 'canary') || !slots.some(s => s.side === 'stable')) {
      const missing = slots.some(s => s.side === 'canary') ? 'stable' : 'canary';
      const o = this.options;
      const names = o.canarySubset !== undefined
        ? `subsets ${o.canarySubset} / ${o.stableSubset}`
        : `backends ${fill(o.canaryService, context)} / ${fill(o.stableService, context)}`;
      throw new Error(`${label} has no ${missing} backend (${names}); add both to one of its rules`);
    }
    return { route: route as any, slots, request, label };
  }

  /** The JSON Patch that gives the canary `weight` % (tested against the route's resourceVersion), recording the fencing token. */
  static weightPatch(
    resourceVersion: string,
    slots: WeightSlot[],
    weight: number,
    fencing?: { token: number; hasAnnotations: boolean },
  ): JsonPatchOp[] {
    const share = (side: 'canary' | 'stable') => {
      const mine = slots.filter(s => s.side === side);
      const total = side === 'canary' ? weight : 100 - weight;
      // Spread a side's share over its backends (usually one), remainders to the first ones.
      return mine.map((slot, i) => ({
        slot,
        value: Math.floor(total / mine.length) + (i < total % mine.length ? 1 : 0),
      }));
    };
    return [
      { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
      ...[...share('canary'), ...share('stable')].map(({ slot, value }) => ({ op: 'replace' as const, path: slot.path, value })),
      ...(fencing === undefined
        ? []
        : [
            fencing.hasAnnotations
              ? { op: 'add' as const, path: `/metadata/annotations/${FENCING_TOKEN_ANNOTATION.replace('/', '~1')}`, value: String(fencing.token) }
              : { op: 'add' as const, path: '/metadata/annotations', value: { [FENCING_TOKEN_ANNOTATION]: String(fencing.token) } },
          ]),
    ];
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    const { slots } = await this.getRoute(context);
    const sum = (side: string) => slots.filter(s => s.side === side).reduce((a, s) => a + s.weight, 0);
    const total = sum('canary') + sum('stable');
    return total === 0 ? 0 : Math.round((100 * sum('canary')) / total);
  }

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    const { route, slots, request, label } = await this.getRoute(context);
    const token = context.fencingToken;
    const annotations = route.metadata?.annotations;
    const current = Number(annotations?.[FENCING_TOKEN_ANNOTATION]);
    if (token !== undefined && Number.isFinite(current) && token < current) {
      throw new StaleFencingTokenError(context.entityRef, token, current);
    }
    const fencing = token === undefined ? undefined : { token, hasAnnotations: !!annotations };
    const body = KubernetesTrafficRouter.weightPatch(route.metadata?.resourceVersion ?? '', slots, weight, fencing);
    await withTimeout(
      this.objects.patchNamespacedCustomObject({ ...request, body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
      this.options.timeoutSeconds,
      `patching ${label}`,
    ).catch(error => {
      throw describeError(error, `patching ${label}`);
    });
  }
}
