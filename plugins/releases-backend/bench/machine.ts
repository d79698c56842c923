import fs from 'node:fs';
import os from 'node:os';

/** CPU seconds used so far: the whole machine (busy, all cores) and the processes by name. */
interface CpuTimes {
  busy: number;
  byName: Record<string, number>;
}

const TICKS = 100; // USER_HZ on Linux

function read(): CpuTimes {
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = fields.slice(0, 8).reduce((a, b) => a + b, 0) - fields[3] - fields[4];
  const byName: Record<string, number> = {};
  for (const pid of fs.readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid ... utime stime are fields 14 and 15; comm may hold spaces.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = pid === String(process.pid) ? 'bench (exporter)' : comm;
      byName[name] = (byName[name] ?? 0) + (Number(rest[11]) + Number(rest[12])) / TICKS;
    } catch {
      // The process ended meanwhile.
    }
  }
  return { busy: busy / TICKS, byName };
}

/**
 * Measures what the machine's CPU did between `start()` and `stop()`: how busy all its cores were
 * and, for the named processes, their share of one core. A replica's lag on a machine whose cores
 * are all busy is the machine's, not the replica's; this says which.
 */
export function machineCpu(names: string[]) {
  let first: CpuTimes | undefined;
  let startedAt = 0;
  return {
    start() {
      first = read();
      startedAt = performance.now();
    },
    stop(): { cores: number; busyPercent: number; percentOfOneCore: Record<string, number> } {
      const last = read();
      const seconds = (performance.now() - startedAt) / 1000;
      const percent = (x: number) => Math.round((1000 * x) / seconds) / 10;
      return {
        cores: os.cpus().length,
        busyPercent: percent((last.busy - first!.busy) / os.cpus().length),
        percentOfOneCore: Object.fromEntries(names.map(name => [name, percent((last.byName[name] ?? 0) - (first!.byName[name] ?? 0))])),
      };
    },
  };
}
