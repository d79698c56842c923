import { WavePlan } from '@release-pilot/plugin-releases-common';

export type { WavePlan } from '@release-pilot/plugin-releases-common';

/**
 * Which regions a release goes to, in which waves and why: one region first, then growing waves
 * (1, 2, 4, the rest) of at most `maxParallel` regions, or the waves a user names. By default the
 * first region is the one with the least traffic right now relative to its own daily average (where
 * it is night), and the regions with the most traffic now go last.
 */

/** A region's traffic now and its daily average (requests per second), from its metric provider. */
export interface RegionTraffic {
  region: string;
  rps: number;
  usualRps: number;
}

/** How a region release is cut into waves. */
export interface WaveOptions {
  /** At most this many regions run at once (default 4). */
  maxParallel: number;
  /** Seconds between one wave's success and the next wave's start (default 0). */
  bakeSeconds: number;
  /** Explicit waves (every region once); when absent, the default shape in traffic order. */
  waves?: string[][];
}

export const DEFAULT_WAVE_OPTIONS: WaveOptions = { maxParallel: 4, bakeSeconds: 0 };

/** The default wave sizes for `count` regions: 1, 2, 4, then the rest, no wave larger than `maxParallel`. */
export function defaultWaveSizes(count: number, maxParallel: number): number[] {
  const limit = Math.max(1, Math.floor(maxParallel));
  const sizes: number[] = [];
  let left = count;
  for (const size of [1, 2, 4]) {
    if (left <= 0) break;
    const take = Math.min(size, limit, left);
    sizes.push(take);
    left -= take;
  }
  while (left > 0) {
    const take = Math.min(limit, left);
    sizes.push(take);
    left -= take;
  }
  return sizes;
}

const percent = (value: number) => `${Math.round(100 * value)} %`;
const rps = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} requests/s`;

/**
 * Regions in release order with their reasons: the lowest traffic relative to its daily average first,
 * then by traffic now, least first (small and quiet regions before big and busy ones). Without
 * traffic figures, the configured order.
 */
export function orderByTraffic(regions: readonly string[], traffic: readonly RegionTraffic[] = []): WavePlan['order'] {
  const known = new Map(traffic.map(t => [t.region, t]));
  if (!regions.every(r => known.has(r))) {
    const missing = regions.filter(r => !known.has(r));
    return regions.map((region, i) => ({
      region,
      reason: `position ${i + 1} in the target's configuration (no traffic figures for ${missing.join(', ')})`,
    }));
  }
  const relative = (t: RegionTraffic) => (t.usualRps > 0 ? t.rps / t.usualRps : 1);
  const byRelative = [...regions].sort((a, b) => relative(known.get(a)!) - relative(known.get(b)!) || known.get(a)!.rps - known.get(b)!.rps);
  const first = byRelative[0];
  const rest = regions.filter(r => r !== first).sort((a, b) => known.get(a)!.rps - known.get(b)!.rps || a.localeCompare(b));
  const describe = (t: RegionTraffic) => `${rps(t.rps)} now, ${percent(relative(t))} of its daily average ${rps(t.usualRps)}`;
  return [
    { region: first, reason: `first: the lowest traffic relative to its daily average (${describe(known.get(first)!)})` },
    ...rest.map((region, i) => ({
      region,
      reason: `${i === rest.length - 1 && rest.length > 1 ? 'last: the most traffic now' : `${ordinal(i + 2)} by traffic now`} (${describe(known.get(region)!)})`,
    })),
  ];
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/**
 * The waves of a release over `regions`: the user's explicit waves, checked to name each region
 * exactly once, or the default shape over the traffic order. Throws with what to fix.
 */
export function planWaves(regions: readonly string[], options: WaveOptions, traffic?: readonly RegionTraffic[]): WavePlan {
  if (regions.length === 0) throw new Error('A region release needs at least one region');
  if (options.waves) {
    const named = options.waves.flat();
    const unknown = named.filter(r => !regions.includes(r));
    const twice = named.filter((r, i) => named.indexOf(r) !== i);
    const missing = regions.filter(r => !named.includes(r));
    const problems = [
      unknown.length && `unknown regions ${unknown.join(', ')} (known: ${regions.join(', ')})`,
      twice.length && `regions named twice: ${[...new Set(twice)].join(', ')}`,
      missing.length && `regions in no wave: ${missing.join(', ')}`,
      options.waves.some(w => w.length === 0) && 'an empty wave',
    ].filter(Boolean);
    if (problems.length) throw new Error(`Invalid waves: ${problems.join('; ')}`);
    return {
      waves: options.waves.map(w => [...w]),
      bakeSeconds: options.bakeSeconds,
      order: options.waves.flatMap((w, i) => w.map(region => ({ region, reason: `wave ${i + 1}, as configured` }))),
    };
  }
  const order = orderByTraffic(regions, traffic);
  const waves: string[][] = [];
  let next = 0;
  for (const size of defaultWaveSizes(order.length, options.maxParallel)) {
    waves.push(order.slice(next, next + size).map(o => o.region));
    next += size;
  }
  return { waves, bakeSeconds: options.bakeSeconds, order };
}
