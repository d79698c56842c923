/**
 * yarn bench:risk [--rows 10000] [--predictions 2000] [--package DIR]: how long the risk model takes to train on
 * N releases (in a worker thread, as the backend does, and in-process), how long one prediction with
 * its explanation takes, and the longest event-loop stall while the worker trains. `--package` loads
 * the risk model from an installed copy of @release-pilot/plugin-releases-core (the install check
 * passes the packed one) instead of this repository's source.
 *
 * The releases are synthetic, with every feature of RISK_FEATURES (some unknown, as in real
 * metadata) and a failure chance that rises with change size, breaking changes and the service's
 * recent rollbacks; the figures are about speed, not accuracy (`release-pilot risk evaluate` on
 * real data measures that).
 */
import type * as Core from '@release-pilot/plugin-releases-core';
import { SeededRandom } from '@release-pilot/plugin-releases-core';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '10000' }, predictions: { type: 'string', default: '2000' }, package: { type: 'string' } },
});
const core: typeof Core = args.package ? require(resolvePath(args.package)) : require('@release-pilot/plugin-releases-core');

const { RISK_FEATURES, RiskModel, rocAuc, toRow, trainInWorker } = core;
const rows = Number(args.rows);
const predictions = Number(args.predictions);

function syntheticReleases(n: number, seed: number) {
  const random = new SeededRandom(seed);
  const features = RISK_FEATURES.map(f => f.name);
  const set = { features, rows: [] as number[][], labels: [] as number[] };
  for (let i = 0; i < n; i++) {
    const linesChanged = Math.round(Math.exp(1 + 8 * random.uniform()));
    const values: Record<string, number> = {
      linesAdded: Math.round(linesChanged * 0.7),
      linesDeleted: Math.round(linesChanged * 0.3),
      linesChanged,
      filesChanged: 1 + Math.floor(linesChanged / (20 + 80 * random.uniform())),
      breaking: random.uniform() < 0.05 ? 1 : 0,
      coverage: 0.4 + 0.55 * random.uniform(),
      serviceFailureRate: Math.min(1, Math.max(0, 0.1 + 0.1 * random.normal())),
      serviceReleases: 20,
      authorReleases: Math.floor(200 * random.uniform()),
      authorServiceReleases: Math.floor(30 * random.uniform()),
      hoursSinceLastRelease: 100 * random.uniform(),
      dayOfWeek: Math.floor(7 * random.uniform()),
      hourUtc: Math.floor(24 * random.uniform()),
      trafficRatio: 0.5 + random.uniform(),
    };
    if (random.uniform() < 0.3) delete values.coverage;
    const logit = -3.2 + 0.35 * Math.log2(1 + linesChanged / 200) + 1.2 * values.breaking + 4 * values.serviceFailureRate - 0.02 * values.authorServiceReleases;
    set.labels.push(random.uniform() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
    set.rows.push(toRow(values, features));
  }
  return set;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main() {
  const set = syntheticReleases(rows, 1);
  const now = new Date().toISOString();

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let started = process.hrtime.bigint();
  const { model: stored, inWorker } = await trainInWorker({ set, now });
  const workerSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  delay.disable();

  started = process.hrtime.bigint();
  RiskModel.train(set);
  const trainSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  started = process.hrtime.bigint();
  RiskModel.train(set, { window: rows });
  const trainAllSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const model = RiskModel.fromJSON(stored);
  const test = syntheticReleases(predictions, 2);
  const times: number[] = [];
  const scores: number[] = [];
  for (const row of test.rows) {
    const t = process.hrtime.bigint();
    const { probability } = model.explain(row);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    scores.push(probability);
  }
  const v = model.validation!;
  const lines = [
    `risk model from                   ${require.resolve(args.package ? resolvePath(args.package) : '@release-pilot/plugin-releases-core')}`,
    `releases                          ${rows} synthetic, ${RISK_FEATURES.length} features, ${(100 * set.labels.filter(l => l).length / rows).toFixed(1)} % failed`,
    `retrain (validate + train) in a worker thread: ${workerSeconds.toFixed(2)} s (${inWorker ? 'worker' : 'in-process fallback'}); longest event-loop stall meanwhile ${(delay.max / 1e6).toFixed(1)} ms`,
    `train (newest ${Math.min(rows, 5000)} rows, forest + calibration)  ${trainSeconds.toFixed(2)} s`,
    `train on all ${rows} rows                      ${trainAllSeconds.toFixed(2)} s`,
    `predict + explain, ${predictions} releases      median ${quantile(times, 0.5).toFixed(3)} ms, p99 ${quantile(times, 0.99).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms`,
    `held-out AUC ${v.auc.toFixed(3)} (validation), ${rocAuc(scores, test.labels).toFixed(3)} (fresh releases); Brier ${v.brier.toFixed(3)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
