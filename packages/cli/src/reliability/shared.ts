import { DatabaseService, LoggerService } from '@backstage/backend-plugin-api';
import { SimulatedFleet } from '@release-pilot/plugin-releases-backend-module-simulator';
import { MetricProvider, ReleaseTargetContext, TrafficRouter } from '@release-pilot/plugin-releases-node';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';

/** Where the replicas of a reliability run share their router and the metric outage switch. */
export interface SharedDir {
  dir: string;
  weights: string;
  log: string;
  outage: string;
}

export function sharedDir(dir: string): SharedDir {
  return { dir, weights: path.join(dir, 'weights.json'), log: path.join(dir, 'weights.log'), outage: path.join(dir, 'metrics-outage') };
}

/** One line of the router's log: every weight any replica set, when, for which release, by whom. */
export interface WeightSet {
  at: string;
  entityRef: string;
  releaseId: string;
  version: string;
  weight: number;
  by: string;
}

/**
 * The traffic router the replicas share, like a real load balancer: its weights live in one file
 * (written atomically), and every change is appended to a log the run checks against the plans.
 */
export class SharedFileRouter implements TrafficRouter {
  constructor(private readonly shared: SharedDir, private readonly by: string) {}

  read(): Record<string, number> {
    try {
      return JSON.parse(fs.readFileSync(this.shared.weights, 'utf8'));
    } catch {
      return {};
    }
  }

  async setCanaryWeight(context: ReleaseTargetContext, weight: number): Promise<void> {
    const weights = this.read();
    weights[context.entityRef] = weight;
    const tmp = `${this.shared.weights}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(weights));
    fs.renameSync(tmp, this.shared.weights);
    const line: WeightSet = { at: new Date().toISOString(), entityRef: context.entityRef, releaseId: context.releaseId, version: context.version, weight, by: this.by };
    fs.appendFileSync(this.shared.log, `${JSON.stringify(line)}\n`);
  }

  async getCanaryWeight(context: ReleaseTargetContext): Promise<number> {
    return this.read()[context.entityRef] ?? 0;
  }
}

/** The simulated fleet's metrics at the shared router's weight; nothing at all while the outage switch is on. */
export class SharedFleetMetrics implements MetricProvider {
  constructor(private readonly fleet: SimulatedFleet, private readonly router: SharedFileRouter, private readonly shared: SharedDir) {}

  async getSample(context: ReleaseTargetContext, interval: { from: Date; to: Date }) {
    if (fs.existsSync(this.shared.outage)) throw new Error('metrics unavailable (simulated outage)');
    return this.fleet.simulate(context, interval, await this.router.getCanaryWeight(context));
  }
}

export function connect(database: string): Knex {
  return knexFactory({
    client: 'pg',
    connection: {
      host: process.env.RELEASE_PILOT_IT_PG_HOST ?? '127.0.0.1',
      port: Number(process.env.RELEASE_PILOT_IT_PG_PORT ?? 5432),
      user: 'postgres',
      database,
    },
    pool: { min: 0, max: 4 },
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
