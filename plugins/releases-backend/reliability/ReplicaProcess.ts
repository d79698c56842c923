import { ChildProcess, spawn } from 'node:child_process';
import { Knex } from 'knex';
import path from 'node:path';
import { RouterServer } from './shared';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export type PauseMode = 'random' | 'beforeRouterCall' | 'beforeFaultyRaise';
export const PAUSE_MODES: PauseMode[] = ['random', 'beforeRouterCall', 'beforeFaultyRaise'];

/** One replica of the driver in a child process (`reliability-replica`), which the run kills, freezes and restarts. */
export class Replica {
  generation = 0;
  process?: ChildProcess;
  owner = '';
  constructor(readonly name: string, private readonly database: string, private readonly routerUrl: string) {}

  // Not ChildProcess.killed: that turns true for any signal sent, SIGSTOP included.
  private killed = false;

  get alive() {
    return !!this.process && this.process.exitCode === null && !this.killed;
  }

  async start() {
    this.killed = false;
    this.generation++;
    this.owner = `${this.name}-${this.generation}`;
    const child = spawn(process.execPath, [path.join(path.dirname(process.argv[1]), 'reliability-replica'), this.database, this.routerUrl, this.owner], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.owner} did not start`)), 60_000);
      child.stdout!.on('data', chunk => {
        const text = String(chunk);
        if (text.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
        if (process.env.RELEASE_PILOT_RELIABILITY_VERBOSE) process.stdout.write(text);
      });
      child.on('exit', code => reject(new Error(`${this.owner} exited with ${code}`)));
    });
  }

  kill() {
    this.killed = true;
    this.process?.kill('SIGKILL');
  }

  /**
   * Freezes the replica (as a long GC pause or a stalled VM would) and wakes it later, with
   * everything it knew:
   * - `random`: at a random moment, woken `ms` later;
   * - `beforeRouterCall`: right after its lease check, before the router call it decided on goes
   *   out, woken `ms` later;
   * - `beforeFaultyRaise`: right before it gives a faulty canary traffic, woken only once the other
   *   replica has taken the release over and rolled it back. Its call is then the most harmful one
   *   a stale replica can send: traffic to a version already rolled back, which nobody would take
   *   away again. Only the router's fencing check stops it.
   * False when it made no such router call in time.
   */
  async pause(ms: number, router: RouterServer, mode: PauseMode, knex: Knex): Promise<boolean> {
    if (mode === 'random') {
      this.process?.kill('SIGSTOP');
      await sleep(ms);
    } else if (mode === 'beforeRouterCall') {
      if (!(await router.freezeBeforeNextCall(this.owner, 10_000))) return false;
      await sleep(ms);
    } else {
      const call = await router.freezeBeforeNextCall(this.owner, 20_000, c => c.version.endsWith('-faulty') && c.weight > 0);
      if (!call) return false;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (await knex('releases').where({ id: call.releaseId }).first('state'))?.state !== 'rolled_back') await sleep(200);
      await sleep(300);
    }
    this.process?.kill('SIGCONT');
    return true;
  }
}

