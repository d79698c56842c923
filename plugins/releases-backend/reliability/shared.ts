import { DatabaseService, LoggerService } from '@backstage/backend-plugin-api';
import { SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { Deployer, DeploySide, DeployStatus, FencingTokens, MetricProvider, ReleaseTargetContext, SideVersions, TrafficRouter } from '@release-pilot/plugin-releases-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import knexFactory, { Knex } from 'knex';

/** One line of the router's log: every weight any replica asked for, when, for which release, by whom, and whether it was applied. */
export interface WeightSet {
  at: string;
  entityRef: string;
  releaseId: string;
  version: string;
  weight: number;
  by: string;
  fencingToken?: number;
  /** Refused: its fencing token was older than one the router had applied (a replica woken past its lease). */
  refused?: boolean;
}

/** One deployer call that changed a side: what it put there, while the canary had which weight. */
export interface SideChange {
  at: string;
  entityRef: string;
  side: DeploySide | 'scale-down';
  version?: string;
  by: string;
  weight: number;
}

/** What the shared deployer holds per entity: each side's version, and when the canary's becomes ready. */
interface Sides {
  stable?: string;
  canary?: string;
  canaryUp: boolean;
  canaryReadyAt: number;
  stableReadyAt: number;
}

/** Seconds the shared deployer takes to make a side ready. */
const DEPLOY_MS = 1500;

/** A router call a replica is about to send, as it asks whether to freeze first. */
export interface FrozenCall {
  entityRef: string;
  releaseId: string;
  version: string;
  weight: number;
}

/**
 * The traffic router the replicas share, like a real load balancer or API server: it runs in the
 * reliability run's own process (never killed or frozen), applies each call atomically, keeps the
 * highest fencing token per entity and refuses older ones, and logs every call. The run also
 * switches the metric outage here.
 */
export class RouterServer {
  readonly log: WeightSet[] = [];
  outage = false;
  /** Replicas asked to freeze themselves right before their next router call (that matches), and what to call once they did. */
  readonly #freeze = new Map<string, { match: (call: FrozenCall) => boolean; frozen: (call: FrozenCall) => void }>();
  readonly #weights = new Map<string, number>();
  readonly #fencing = new FencingTokens();
  /** The deployer's side of the server: each entity's sides, every change, and every breach of "no traffic before ready". */
  readonly sides = new Map<string, Sides>();
  readonly changes: SideChange[] = [];
  /** Weights given to a canary that did not run the release's version or was not ready yet. */
  readonly unreadyTraffic: WeightSet[] = [];
  /** Deploys to a side while it carried traffic (the canary above 0 %, the stable side below 100 %). */
  readonly deploysUnderTraffic: SideChange[] = [];
  #server?: http.Server;

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', chunk => (raw += chunk));
      req.on('end', () => {
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const entityRef = decodeURIComponent(req.url!.split('/').pop() ?? '');
        if (req.url!.startsWith('/deployer/')) return send(200, this.deploy(entityRef, req.method === 'GET' ? undefined : JSON.parse(raw)));
        if (req.url!.startsWith('/freeze/')) {
          const asked = this.#freeze.get(entityRef);
          const call: FrozenCall = JSON.parse(raw);
          if (!asked || !asked.match(call)) return send(204, {});
          this.#freeze.delete(entityRef);
          asked.frozen(call);
          return send(200, {});
        }
        if (req.method === 'GET') return send(200, { weight: this.#weights.get(entityRef) ?? 0, outage: this.outage });
        const call: WeightSet = { ...JSON.parse(raw), entityRef, at: new Date().toISOString() };
        const context = { entityRef, releaseId: call.releaseId, version: call.version, annotations: {}, fencingToken: call.fencingToken };
        try {
          // RELEASE_PILOT_RELIABILITY_NO_FENCING=1 shows what the token prevents: a router that checks nothing.
          if (!process.env.RELEASE_PILOT_RELIABILITY_NO_FENCING) this.#fencing.admit(context);
        } catch (error) {
          this.log.push({ ...call, refused: true });
          return send(409, { message: (error as Error).message });
        }
        const sides = this.sides.get(entityRef);
        if (call.weight > 0 && (!sides || sides.canary !== call.version || !sides.canaryUp || Date.now() < sides.canaryReadyAt)) this.unreadyTraffic.push(call);
        this.#weights.set(entityRef, call.weight);
        this.log.push(call);
        return send(200, {});
      });
    });
    await new Promise<void>(resolve => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  /** A deployer call: put a version on a side (or scale the canary down), and say whether it is ready. */
  private deploy(entityRef: string, call?: { side: DeploySide | 'scale-down'; version?: string; by: string }): DeployStatus | SideVersions {
    const sides = this.sides.get(entityRef) ?? { canaryUp: false, canaryReadyAt: 0, stableReadyAt: 0 };
    this.sides.set(entityRef, sides);
    const view = { stable: sides.stable, canary: sides.canaryUp ? sides.canary : undefined, canaryUp: sides.canaryUp };
    if (!call) return view;
    const weight = this.#weights.get(entityRef) ?? 0;
    const now = Date.now();
    if (call.side === 'scale-down') {
      if (sides.canaryUp) {
        const change = { at: new Date().toISOString(), entityRef, side: call.side, by: call.by, weight };
        this.changes.push(change);
        if (weight > 0) this.deploysUnderTraffic.push(change);
      }
      sides.canaryUp = false;
      return { done: true, progress: 'scaled down', sides: { canaryUp: false } };
    }
    const changed = call.side === 'canary' ? sides.canary !== call.version || !sides.canaryUp : sides.stable !== call.version;
    if (changed) {
      const change = { at: new Date().toISOString(), entityRef, side: call.side, version: call.version, by: call.by, weight };
      this.changes.push(change);
      if ((call.side === 'canary' && weight > 0) || (call.side === 'stable' && weight < 100)) this.deploysUnderTraffic.push(change);
      if (call.side === 'canary') Object.assign(sides, { canary: call.version, canaryUp: true, canaryReadyAt: now + DEPLOY_MS });
      else Object.assign(sides, { stable: call.version, stableReadyAt: now + DEPLOY_MS });
    }
    const readyAt = call.side === 'canary' ? sides.canaryReadyAt : sides.stableReadyAt;
    return { done: now >= readyAt, progress: now >= readyAt ? 'ready' : 'rolling out', sides: { [call.side]: call.version } };
  }

  /** The canary weight the router holds for an entity. */
  weightOf(entityRef: string): number {
    return this.#weights.get(entityRef) ?? 0;
  }

  /**
   * Resolves with the call once `owner` froze itself right before a router call that `match`es,
   * undefined if it made none within `ms`.
   */
  freezeBeforeNextCall(owner: string, ms: number, match: (call: FrozenCall) => boolean = () => true): Promise<FrozenCall | undefined> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.#freeze.delete(owner);
        resolve(undefined);
      }, ms);
      this.#freeze.set(owner, {
        match,
        frozen: call => {
          clearTimeout(timer);
          resolve(call);
        },
      });
    });
  }

  stop() {
    this.#server?.close();
  }
}

/** The regions of the run's target across regions (`regions`): waves of 1, 2 and 1 by default. */
export const REGIONS = ['r1', 'r2', 'r3', 'r4'];

/** Where the shared router and deployer keep an entity's traffic and sides: per region for a region's part (`<entity>@<region>`). */
export function sideKey(entityRef: string, region?: string): string {
  return region ? `${entityRef}@${region}` : entityRef;
}

/** A replica's view of the shared router, over HTTP; a region's router (`region`) keeps its own weights. */
export class SharedRouter implements TrafficRouter {
  constructor(private readonly url: string, private readonly by: string, private readonly region?: string) {}

  async read(entityRef: string): Promise<{ weight: number; outage: boolean }> {
    const response = await fetch(`${this.url}/weights/${encodeURIComponent(sideKey(entityRef, this.region))}`);
    return response.json();
  }

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    const { releaseId, version, fencingToken } = context;
    // The worst moment to freeze: the lease was checked, the call not yet sent. When the run asks
    // for it, the replica stops itself here (SIGSTOP) and sends the call after the run wakes it.
    const call: FrozenCall = { entityRef: sideKey(context.entityRef, this.region), releaseId, version, weight };
    if ((await fetch(`${this.url}/freeze/${encodeURIComponent(this.by)}`, { method: 'POST', body: JSON.stringify(call) })).status === 200) {
      process.kill(process.pid, 'SIGSTOP');
    }
    const response = await fetch(`${this.url}/weights/${encodeURIComponent(call.entityRef)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ releaseId, version, weight, by: this.by, fencingToken }),
    });
    if (!response.ok) throw new Error(`router refused: ${(await response.json()).message}`);
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    return (await this.read(context.entityRef)).weight;
  }
}

/** A replica's view of the shared deployer, over HTTP: both sides of each entity (per region) live in the run's process. */
export class SharedDeployer implements Deployer {
  constructor(private readonly url: string, private readonly by: string, private readonly region?: string) {}

  private async call<T>(entityRef: string, body?: object): Promise<T> {
    const response = await fetch(`${this.url}/deployer/${encodeURIComponent(sideKey(entityRef, this.region))}`, body ? { method: 'POST', body: JSON.stringify({ ...body, by: this.by }) } : {});
    return response.json();
  }

  async ensure(context: ReleaseTargetContext, side: DeploySide, version: string): Promise<DeployStatus> {
    const status = await this.call<DeployStatus>(context.entityRef, { side, version });
    // RELEASE_PILOT_RELIABILITY_BROKEN_DEPLOYER=1 shows what the run catches: a deployer that says "ready" at once.
    return process.env.RELEASE_PILOT_RELIABILITY_BROKEN_DEPLOYER ? { ...status, done: true } : status;
  }

  scaleDownCanary(context: ReleaseTargetContext): Promise<DeployStatus> {
    return this.call(context.entityRef, { side: 'scale-down' });
  }

  readSides(context: ReleaseTargetContext): Promise<SideVersions> {
    return this.call(context.entityRef);
  }
}

/** The simulated fleet's metrics at the shared router's weight; nothing at all while the outage is on. */
export class SharedFleetMetrics implements MetricProvider {
  constructor(private readonly fleet: SimulatedFleet, private readonly router: SharedRouter) {}

  async getSample(context: ReleaseTargetContext, interval: { from: Date; to: Date }) {
    const { weight, outage } = await this.router.read(context.entityRef);
    if (outage) throw new Error('metrics unavailable (simulated outage)');
    return this.fleet.simulate(context, interval, weight);
  }
}

export function connect(database: string, poolSize = 4): Knex {
  return knexFactory({
    client: 'pg',
    connection: {
      host: process.env.RELEASE_PILOT_IT_PG_HOST ?? '127.0.0.1',
      port: Number(process.env.RELEASE_PILOT_IT_PG_PORT ?? 5432),
      user: 'postgres',
      database,
    },
    pool: { min: 0, max: poolSize },
  });
}

export function databaseService(knex: Knex): DatabaseService {
  return { getClient: async () => knex, migrations: { skip: false } } as DatabaseService;
}

export function consoleLogger(prefix: string, quiet = false): LoggerService {
  const log = (level: string) => (message: string) => {
    if (!quiet || level !== 'info') process.stdout.write(`${new Date().toISOString()} ${prefix} ${level} ${message}\n`);
  };
  const logger: LoggerService = { info: log('info'), warn: log('warn'), error: log('error'), debug: () => {}, child: () => logger };
  return logger;
}
