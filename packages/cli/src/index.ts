/**
 * release-pilot: the Release Pilot command line.
 *
 * @packageDocumentation
 */
import { ConfigReader } from '@backstage/config';
import { DEFAULT_TRAIN_WINDOW, detectableEffect, JudgeCatalog, RISK_FEATURES, SequentialJudge } from '@release-pilot/plugin-releases-core';
import { describeDetectableEffect, RELEASE_ACTIONS } from '@release-pilot/plugin-releases-common';
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { runScenario } from './simulate/runScenario';
import { parseScenario } from './simulate/scenario';
import { isRegionScenario, parseRegionScenario } from './simulate/regionScenario';
import { formatRegionSimulation, simulateRegions } from './simulate/simulateRegions';
import { CliError, Connection, ReleasesHttpClient } from './releases/client';
import { describe, EXIT, exitCodeOf, waitFor } from './releases/progress';
import { gitMetadata } from './releases/gitMetadata';
import { changeSizeSinceLastRelease, fullEntityRef } from './releases/changeSize';
import { deploymentsFromCsv, evaluateCsv, readCsv, trainingSetFromCsv } from './risk/evaluate';

function positiveInteger(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got '${value}'`);
    return n;
  };
}

const program = new Command('release-pilot').description('Release Pilot: safe, boring releases');
// Usage errors exit 3 like every other error (0, 1 and 2 are the outcomes of a release); set before
// the subcommands are made so that they inherit it.
program.exitOverride();

program
  .command('simulate')
  .description('Run a release scenario through the real engine and judge in virtual time')
  .requiredOption('--scenario <file>', 'scenario YAML file')
  .option('--runs <n>', 'how many releases to simulate', positiveInteger('runs'), 100)
  .option('--seed <n>', 'seed of the first run (run i uses seed + i)', positiveInteger('seed'), 1)
  .option('--judge <name>', 'override the scenario judge: default, sequential, fixed, kayenta, threshold, or a named judge (with --config)')
  .option('--config <file...>', 'app-config files whose releases.judge and releases.judges the scenario may use')
  .option('--warm-up <seconds>', 'override the plan\'s warm-up: its first seconds are not judged', positiveInteger('warm-up'))
  .option('--tick <seconds>', 'override the scenario\'s tick (the production default is 5)', positiveInteger('tick'))
  .option('--router-latency <ms>', 'override the simulated router\'s mean time to apply a weight', positiveInteger('router-latency'))
  .option('--fault-region <region>', 'a region scenario: the new version fails in this region only')
  .option('--json', 'print one JSON object')
  .action(async (options: { scenario: string; runs: number; seed: number; judge?: string; config?: string[]; warmUp?: number; tick?: number; routerLatency?: number; faultRegion?: string; json?: boolean }) => {
    const text = readFileSync(options.scenario, 'utf8');
    if (isRegionScenario(text)) {
      const regions = parseRegionScenario(text);
      const simulation = await simulateRegions(options.tick === undefined ? regions : { ...regions, tickSeconds: options.tick }, options);
      process.stdout.write(options.json ? `${JSON.stringify(simulation)}\n` : formatRegionSimulation(simulation));
      return;
    }
    const parsed = parseScenario(text);
    if (options.tick !== undefined && !(options.tick >= 1 && options.tick <= 600)) throw new CliError(`--tick must be 1 to 600 seconds, got ${options.tick}`);
    const scenario = {
      ...parsed,
      ...(options.tick !== undefined && { tickSeconds: options.tick }),
      ...(options.routerLatency !== undefined && { router: { latencyMs: options.routerLatency } }),
      plan: options.warmUp === undefined ? parsed.plan : { ...parsed.plan, warmUpSeconds: options.warmUp },
    };
    const judges = options.config
      ? JudgeCatalog.fromConfig(
          ConfigReader.fromConfigs(options.config.map(file => ({ context: file, data: parseYaml(readFileSync(file, 'utf8')) ?? {} }))),
        )
      : undefined;
    const result = runScenario(scenario, { ...options, judges });
    // What the plan can catch at this traffic, with the sequential judge (the default one's settings when it is sequential).
    const sequential = judges?.defaultJudge instanceof SequentialJudge ? judges.defaultJudge.options : undefined;
    const detectable = ['default', 'sequential'].includes(options.judge ?? scenario.judge)
      ? detectableEffect({
          rps: scenario.traffic.rps,
          baselineErrorRate: scenario.baseline.errorRate,
          steps: scenario.plan.steps,
          tickSeconds: scenario.tickSeconds,
          judge: sequential,
          seed: options.seed,
        })
      : undefined;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...result, detectable })}\n`);
      return;
    }
    const d = result.detectionSeconds;
    const w = result.rollbackCompleteSeconds;
    const seconds = (v: number | null) => (v === null ? '-' : `${Number(v.toFixed(2))} s`);
    process.stdout.write(
      `${result.scenario} (${result.judge}, ${result.runs} runs, ${result.tickSeconds} s tick, router ${result.routerLatencyMs} ms): ${result.promoted} promoted, ${result.rolledBack} rolled back, ${result.paused} paused; ` +
        `false rollback rate ${(100 * result.falseRollbackRate).toFixed(1)} %; detection median ${seconds(d.median)}, p95 ${seconds(d.p95)}, max ${seconds(d.max)}; ` +
        `canary weight 0 median ${seconds(w.median)}, p95 ${seconds(w.p95)}, max ${seconds(w.max)} (from the fault's first canary traffic)\n`,
    );
    if (detectable) process.stdout.write(`${describeDetectableEffect(detectable)} (${detectable.runs} simulated releases per ratio tried)\n`);
  });

const risk = program.command('risk').description('The release risk model');

risk
  .command('evaluate')
  .description('Train on the oldest rows of a CSV and test on the newest (never a random split)')
  .requiredOption('--csv <file>', 'CSV with a header row, one release (or change) per row')
  .requiredOption('--label <column>', 'the outcome column: 1 failed / rolled back, 0 succeeded')
  .option('--time <column>', 'sort by this column first (a number or a date); without it the file order is the time order')
  .option('--features <list>', 'comma-separated feature columns (default: every numeric column but the label, time and ids)')
  .option('--train-fraction <f>', 'the oldest share of rows to train on', parseFloat, 0.8)
  .option('--window <n>', 'train on the newest n rows before the split only', positiveInteger('window'), DEFAULT_TRAIN_WINDOW)
  .option('--tune', 'choose the window and leaf size on a validation split inside the training rows (their newest 20 %), then test once')
  .option('--json', 'print one JSON object')
  .action((options: { csv: string; label: string; time?: string; features?: string; trainFraction: number; window: number; tune?: boolean; json?: boolean }) => {
    if (!(options.trainFraction > 0 && options.trainFraction < 1)) {
      throw new CliError(`--train-fraction must be between 0 and 1, got ${options.trainFraction}`);
    }
    let text: string;
    try {
      text = readFileSync(options.csv, 'utf8');
    } catch (error) {
      throw new CliError(`Cannot read ${options.csv}: ${(error as Error).message}`);
    }
    const set = trainingSetFromCsv(readCsv(text, options.csv), {
      label: options.label,
      time: options.time,
      features: options.features?.split(',').map(f => f.trim()).filter(Boolean),
    });
    const result = evaluateCsv(set, { trainFraction: options.trainFraction, window: options.window, tune: options.tune });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(
      `AUC ${result.auc.toFixed(3)} (best single feature ${result.bestSingleFeature.feature}: ${result.bestSingleFeature.auc.toFixed(3)}), ` +
        `PR-AUC ${result.prAuc.toFixed(3)}, Brier ${result.brier.toFixed(3)}; trained on ${result.trainRows} rows in ${result.trainSeconds.toFixed(1)} s, tested on ${result.testRows}` +
        `${result.tuned ? `; tuned on the training rows' newest 20 %: window ${result.tuned.window}, leaves of ${result.tuned.minLeafRows}+ rows (validation AUC ${result.tuned.validationAuc.toFixed(3)})` : ''}\n`,
    );
  });

/** --url, --token and the environment: where the backend is and the pipeline's token. */
function connectionOf(options: { url?: string; token?: string }): Connection {
  return {
    url: options.url ?? process.env.RELEASE_PILOT_URL ?? 'http://localhost:7007',
    token: options.token ?? process.env.RELEASE_PILOT_TOKEN,
  };
}

const print = (line: string) => process.stdout.write(`${line}\n`);

function withConnection(command: Command): Command {
  return command
    .option('--url <url>', 'the Backstage backend (default $RELEASE_PILOT_URL or http://localhost:7007)')
    .option('--token <token>', 'a Backstage static token (default $RELEASE_PILOT_TOKEN)');
}

function waitOptions(command: Command): Command {
  return command
    .option('--interval <seconds>', 'seconds between polls', positiveInteger('interval'), 2)
    .option('--timeout <seconds>', 'give up waiting after this long (the release goes on)', positiveInteger('timeout'), 7200);
}

/** Waits for a release to finish and exits 0 (succeeded) or 1 (rolled back or failed). */
async function waitAndExit(client: ReleasesHttpClient, id: string, options: { interval: number; timeout: number }) {
  const done = await waitFor(client, id, print, { intervalMs: options.interval * 1000, timeoutMs: options.timeout * 1000 });
  process.exit(exitCodeOf(done));
}

withConnection(
  risk
    .command('import')
    .description('Import deployments from before Release Pilot (CSV: entity, at, outcome, author, feature columns) to train the risk model')
    .requiredOption('--csv <file>', 'the CSV file'),
).action(async (options: { csv: string; url?: string; token?: string }) => {
  let text: string;
  try {
    text = readFileSync(options.csv, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${options.csv}: ${(error as Error).message}`);
  }
  let deployments;
  try {
    deployments = deploymentsFromCsv(readCsv(text, options.csv), RISK_FEATURES.map(f => f.name));
  } catch (error) {
    throw new CliError(`${options.csv}: ${(error as Error).message}`);
  }
  const client = new ReleasesHttpClient(connectionOf(options));
  let imported = 0;
  for (let k = 0; k < deployments.length; k += 5000) {
    imported += (await client.importRiskHistory(deployments.slice(k, k + 5000))).imported;
  }
  print(`Imported ${imported} deployments; run release-pilot risk train to train on them now (or wait for the daily training)`);
});

withConnection(risk.command('train').description('Retrain the risk model now on the history in the database')).action(
  async (options: { url?: string; token?: string }) => {
    print(JSON.stringify(await new ReleasesHttpClient(connectionOf(options)).trainRisk()));
  },
);

waitOptions(
  withConnection(
    program
      .command('start')
      .description('Start a release of a catalog entity; with --wait, follow it and exit 0 on success, 1 when rolled back')
      .requiredOption('--entity <ref>', 'the entity, e.g. component:default/checkout')
      .requiredOption('--version <version>', 'the version to release')
      .option('--plan <name>', 'a named plan instead of the entity\'s')
      .option('--metadata <file>', 'a JSON file of release metadata (commit, author, change size, ...)')
      .option('--no-git', 'do not add the commit, commit time and author of the git checkout in the current directory')
      .option('--risk-override <reason>', 'start even if the predicted risk is above the limit (needs the releases.risk.override permission)')
      .option('--deployed', 'the pipeline has deployed the version to the canary side already (targets whose deployer is none)')
      .option('--wait', 'follow the release to its end'),
  ),
).action(async (options: { entity: string; version: string; plan?: string; metadata?: string; git: boolean; riskOverride?: string; deployed?: boolean; wait?: boolean; url?: string; token?: string; interval: number; timeout: number }) => {
  let metadata: Record<string, unknown> | undefined;
  if (options.metadata) {
    try {
      metadata = JSON.parse(readFileSync(options.metadata, 'utf8'));
    } catch (error) {
      throw new CliError(`--metadata ${options.metadata}: ${(error as Error).message}`);
    }
  }
  // The checkout's commit (the lead time runs from its commit time); the metadata file wins.
  const git = options.git ? gitMetadata() : undefined;
  if (git) metadata = { ...git, ...metadata };
  const client = new ReleasesHttpClient(connectionOf(options));
  // The change's size, from the commit of the release that runs now to HEAD, when the checkout has both.
  if (git && !['linesAdded', 'linesDeleted', 'filesChanged'].some(key => metadata?.[key] !== undefined)) {
    const size = await changeSizeSinceLastRelease(client, fullEntityRef(options.entity));
    if ('unknown' in size) print(`Change size unknown: ${size.unknown}`);
    else {
      print(`Change size since ${size.base.slice(0, 12)}: +${size.linesAdded} -${size.linesDeleted} lines in ${size.filesChanged} files`);
      metadata = { ...metadata, linesAdded: size.linesAdded, linesDeleted: size.linesDeleted, filesChanged: size.filesChanged };
    }
  }
  const release = await client.create({
    entityRef: options.entity,
    version: options.version,
    plan: options.plan,
    metadata,
    ...(options.deployed && { deployed: true }),
    ...(options.riskOverride !== undefined && { riskOverride: { reason: options.riskOverride } }),
  });
  const assessment = release.risk;
  const riskText = assessment
    ? `; predicted risk ${Math.round(100 * assessment.probability)}% (${assessment.model})${assessment.plan ? `: ${assessment.plan.reason}` : ''}${assessment.override ? `; risk gate overridden: ${assessment.override.reason}` : ''}`
    : '';
  print(`Started release ${release.id} of ${release.entityRef} ${release.version} (plan '${release.plan.name}')${riskText}`);
  if (options.wait) await waitAndExit(client, release.id, options);
});

withConnection(program.command('status <id>').description('Print a release as JSON')).action(
  async (id: string, options: { url?: string; token?: string }) => {
    const release = await new ReleasesHttpClient(connectionOf(options)).get(id);
    print(JSON.stringify({ id: release.id, entityRef: release.entityRef, version: release.version, state: release.state, currentStep: release.currentStep, canaryWeight: release.canaryWeight, reason: release.reason, verdict: release.latestVerdict?.summary }));
  },
);

waitOptions(withConnection(program.command('wait <id>').description('Follow a release; exit 0 on success, 1 when rolled back'))).action(
  async (id: string, options: { url?: string; token?: string; interval: number; timeout: number }) => {
    await waitAndExit(new ReleasesHttpClient(connectionOf(options)), id, options);
  },
);

withConnection(
  program
    .command('deployed <id>')
    .description('Confirm that a side runs the version the release waits for (targets whose deployer is none)')
    .option('--side <side>', 'canary or stable (default: the side the release waits for)')
    .option('--version <version>', 'the version the side runs (default: the one the release waits for)'),
).action(async (id: string, options: { side?: string; version?: string; url?: string; token?: string }) => {
  if (options.side !== undefined && options.side !== 'canary' && options.side !== 'stable') {
    throw new CliError(`--side ${options.side}: use canary or stable`);
  }
  const release = await new ReleasesHttpClient(connectionOf(options)).deployed(id, { side: options.side as 'canary' | 'stable' | undefined, version: options.version });
  print(`deployed: ${describe(release)}`);
});

for (const action of RELEASE_ACTIONS) {
  withConnection(program.command(`${action} <id>`).description(`${action[0].toUpperCase()}${action.slice(1)} a release`))
    .option('--reason <text>', 'why, for the timeline')
    .action(async (id: string, options: { reason?: string; url?: string; token?: string }) => {
      const release = await new ReleasesHttpClient(connectionOf(options)).act(id, action, options.reason);
      print(`${action}: ${describe(release)}`);
    });
}

program.parseAsync(process.argv).catch(error => {
  if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')) {
    process.exit(0);
  }
  // Commander has printed its own usage message already.
  if (!(error instanceof CommanderError)) {
    process.stderr.write(`release-pilot: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(error instanceof CliError ? error.exitCode : EXIT.error);
});
