/**
 * release-pilot: the Release Pilot command line.
 *
 * @packageDocumentation
 */
import { ConfigReader } from '@backstage/config';
import { readReleasesConfig } from '@release-pilot/plugin-releases-backend';
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { runScenario } from './simulate/runScenario';
import { parseScenario } from './simulate/scenario';

function positiveInteger(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got '${value}'`);
    return n;
  };
}

const program = new Command('release-pilot').description('Release Pilot: safe, boring releases');

program
  .command('simulate')
  .description('Run a release scenario through the real engine and judge in virtual time')
  .requiredOption('--scenario <file>', 'scenario YAML file')
  .option('--runs <n>', 'how many releases to simulate', positiveInteger('runs'), 100)
  .option('--seed <n>', 'seed of the first run (run i uses seed + i)', positiveInteger('seed'), 1)
  .option('--judge <name>', 'override the scenario judge: default, sequential, fixed, kayenta, threshold, or a named analysis (with --config)')
  .option('--config <file...>', 'app-config files whose releases.judge and releases.analyses the scenario may use')
  .option('--json', 'print one JSON object')
  .action((options: { scenario: string; runs: number; seed: number; judge?: string; config?: string[]; json?: boolean }) => {
    const scenario = parseScenario(readFileSync(options.scenario, 'utf8'));
    const judges = options.config
      ? readReleasesConfig(
          ConfigReader.fromConfigs(options.config.map(file => ({ context: file, data: parseYaml(readFileSync(file, 'utf8')) ?? {} }))),
        ).judges
      : undefined;
    const result = runScenario(scenario, { ...options, judges });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const d = result.detectionSeconds;
    process.stdout.write(
      `${result.scenario} (${result.judge}, ${result.runs} runs): ${result.promoted} promoted, ${result.rolledBack} rolled back, ${result.paused} paused; ` +
        `false rollback rate ${(100 * result.falseRollbackRate).toFixed(1)} %; detection median ${d.median ?? '-'} s, p95 ${d.p95 ?? '-'} s, max ${d.max ?? '-'} s\n`,
    );
  });

program.parseAsync(process.argv).catch(error => {
  process.stderr.write(`release-pilot: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
