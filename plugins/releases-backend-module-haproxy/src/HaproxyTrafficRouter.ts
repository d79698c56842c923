import {
  AnnotationRule,
  checkedValue,
  entityNameOf,
  listRule,
  patternRule,
  ReleaseTargetContext,
  TrafficRouter,
} from '@release-pilot/plugin-releases-node';
import { HaproxyOptions } from './config';
import { HaproxyError, RuntimeApi } from './RuntimeApi';

/** Annotations an entity overrides the target's backend and servers with. */
export const HAPROXY_ANNOTATIONS = {
  backend: 'release-pilot.io/haproxy-backend',
  stableServers: 'release-pilot.io/haproxy-stable-servers',
  canaryServers: 'release-pilot.io/haproxy-canary-servers',
} as const;

/** HAProxy's weights run 0-256; 100 % of the traffic is spread as this many weight points per side. */
const WEIGHT_POINTS = 200;

/** The per-server weights that give the canary pool `weight` % of new requests. */
export function serverWeights(weight: number, canaryCount: number, stableCount: number) {
  const share = (percent: number, count: number) =>
    percent <= 0 ? 0 : Math.max(1, Math.round((percent * WEIGHT_POINTS) / 100 / count));
  return { canary: share(weight, canaryCount), stable: share(100 - weight, stableCount) };
}

const list = (value: string) => value.split(',').map(s => s.trim()).filter(Boolean);

/** A backend or server name as HAProxy's runtime API takes it: nothing that could end the command. */
export const HAPROXY_NAME = patternRule(/^[A-Za-z0-9._:-]{1,64}$/, "letters, digits and . _ - :, 1 to 64 characters");
const HAPROXY_SERVERS = listRule(HAPROXY_NAME, 32);

/**
 * How the entity annotations this router reads must look (`${entityName}` may stand in a name),
 * what the target sets without them, and what names an entity's own traffic: its backend.
 */
export function haproxyAnnotationRules(options: Pick<HaproxyOptions, 'backend' | 'stableServers' | 'canaryServers'>): AnnotationRule[] {
  return [
    { annotation: HAPROXY_ANNOTATIONS.backend, rule: HAPROXY_NAME, default: options.backend, claim: 'haproxy-backend' },
    { annotation: HAPROXY_ANNOTATIONS.stableServers, rule: HAPROXY_SERVERS, default: options.stableServers.join(',') },
    { annotation: HAPROXY_ANNOTATIONS.canaryServers, rule: HAPROXY_SERVERS, default: options.canaryServers.join(',') },
  ];
}

/**
 * Shifts traffic between the stable and canary servers of an HAProxy backend with the runtime
 * API's `set server <backend>/<server> weight <n>`. A weight change only steers new requests:
 * HAProxy keeps every open connection and in-flight request on its server, so nothing is dropped.
 * The side gaining traffic is raised before the other is lowered, so there is never a moment with
 * no server of weight above 0, and each change is read back with `get weight` before it counts.
 */
export class HaproxyTrafficRouter implements TrafficRouter {
  readonly annotationRules: readonly AnnotationRule[];
  private readonly api: RuntimeApi;

  constructor(private readonly options: HaproxyOptions) {
    this.api = new RuntimeApi(options.runtimeApi, options.timeoutSeconds * 1000);
    this.annotationRules = haproxyAnnotationRules(options);
  }

  /**
   * The backend and server names of a release's entity, each checked against HAProxy's name rule
   * before it can reach a runtime-API command (an annotation, or the entity's name filled into
   * `${entityName}`, is text from outside config).
   */
  servers(context: ReleaseTargetContext) {
    const a = context.annotations;
    const name = entityNameOf(context);
    const names = (values: string[], what: string) => values.map(v => checkedValue(v, HAPROXY_NAME, what));
    return {
      backend: checkedValue((a[HAPROXY_ANNOTATIONS.backend] ?? this.options.backend).replace('${entityName}', name), HAPROXY_NAME, 'The HAProxy backend'),
      stable: names(a[HAPROXY_ANNOTATIONS.stableServers] ? list(a[HAPROXY_ANNOTATIONS.stableServers]) : this.options.stableServers, 'The HAProxy stable server'),
      canary: names(a[HAPROXY_ANNOTATIONS.canaryServers] ? list(a[HAPROXY_ANNOTATIONS.canaryServers]) : this.options.canaryServers, 'The HAProxy canary server'),
    };
  }

  private async getWeight(backend: string, server: string): Promise<number> {
    const answer = await this.api.command(`get weight ${backend}/${server}`);
    const match = /^(\d+) \(initial \d+\)$/.exec(answer);
    if (!match) throw new HaproxyError(`HAProxy has no server ${backend}/${server}: ${answer}`);
    return Number(match[1]);
  }

  /**
   * Sets the weights of every server in one runtime API request (`set server ...; set server ...`,
   * in the given order), so HAProxy applies them back to back instead of a round trip apart; then
   * reads each one back.
   */
  private async setWeights(backend: string, groups: Array<{ servers: string[]; weight: number }>) {
    const commands = groups.flatMap(({ servers, weight }) => servers.map(server => `set server ${backend}/${server} weight ${weight}`));
    const answer = await this.api.command(commands.join('; '));
    if (answer !== '') throw new HaproxyError(`HAProxy refused the weights (${commands.join('; ')}): ${answer}`);
    await Promise.all(
      groups.flatMap(({ servers, weight }) =>
        servers.map(async server => {
          const actual = await this.getWeight(backend, server);
          if (actual !== weight) throw new HaproxyError(`HAProxy holds weight ${actual} for ${backend}/${server} after setting ${weight}`);
        }),
      ),
    );
  }

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    const { backend, stable, canary } = this.servers(context);
    const target = serverWeights(weight, canary.length, stable.length);
    const current = await this.getCanaryWeight(context);
    // Raising the canary: canary first; lowering it: stable first. Never both at 0 in between.
    const canaryGroup = { servers: canary, weight: target.canary };
    const stableGroup = { servers: stable, weight: target.stable };
    await this.setWeights(backend, weight >= current ? [canaryGroup, stableGroup] : [stableGroup, canaryGroup]);
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    const { backend, stable, canary } = this.servers(context);
    const sum = async (servers: string[]) =>
      (await Promise.all(servers.map(s => this.getWeight(backend, s)))).reduce((a, b) => a + b, 0);
    const [canaryTotal, stableTotal] = await Promise.all([sum(canary), sum(stable)]);
    return canaryTotal + stableTotal === 0 ? 0 : Math.round((100 * canaryTotal) / (canaryTotal + stableTotal));
  }
}
