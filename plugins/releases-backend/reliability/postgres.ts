import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The newest PostgreSQL server binaries Debian installed (`/usr/lib/postgresql/<version>/bin`). */
function serverBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter(v => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  if (!versions.length) throw new Error('No PostgreSQL server found under /usr/lib/postgresql: install the postgresql package (scripts/test.sh does)');
  return path.join(root, versions.sort((a, b) => Number(a) - Number(b)).at(-1)!, 'bin');
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/**
 * A PostgreSQL server of the run's own, in a temporary directory on a free loopback port, so the
 * run can stop and start it (the database-restart run) without touching any other server. As root
 * it runs as the `postgres` user, as Debian's own clusters do.
 */
export class OwnPostgres {
  private constructor(readonly port: number, private readonly dir: string, private readonly bin: string) {}

  static async start(): Promise<OwnPostgres> {
    const bin = serverBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-pilot-pg-'));
    const pg = new OwnPostgres(await freePort(), dir, bin);
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    pg.run('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
    await pg.up();
    return pg;
  }

  private run(tool: string, args: string[]) {
    const command = [path.join(this.bin, tool), ...args];
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...command], { stdio: 'ignore' });
    else execFileSync(command[0], command.slice(1), { stdio: 'ignore' });
  }

  /** Starts the server and waits until it accepts connections. */
  async up() {
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c max_connections=200 -c fsync=off`;
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', options, '-l', path.join(this.dir, 'log'), '-w', 'start']);
  }

  /** Stops the server the hard way: every connection cut at once, recovery on the next start (as after a crash). */
  down() {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', 'stop']);
  }

  /** Stops the server for good and removes its files. */
  remove() {
    try {
      this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', 'stop']);
    } catch {
      // Already stopped.
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
