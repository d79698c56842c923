import { DEFAULT_FOREST_OPTIONS, ForestOptions, RiskModel, rocAuc, TrainingSet, ValidationFigures } from '@release-pilot/plugin-releases-core';
import { parse } from 'csv-parse/sync';

/** What `release-pilot risk evaluate --json` prints: the held-out figures and the best single feature's AUC. */
export type EvaluationResult = Omit<ValidationFigures, 'failureRate'> & {
  bestSingleFeature: { feature: string; auc: number };
  features: string[];
  /** With `tune`: the settings chosen on a validation split inside the training period, and each candidate's validation AUC. */
  tuned?: { window: number; minLeafRows: number; validationAuc: number; candidates: Array<{ window: number; minLeafRows: number; validationAuc: number }> };
};

/** The settings `--tune` tries: training windows and leaf sizes. */
export const TUNING_GRID = { windows: [1000, 2500, 5000, 1_000_000], minLeafRows: [20, 60, 150] };

/**
 * Chooses the training window and leaf size inside the training rows only: trained on their oldest
 * 80 %, validated on their newest 20 %. The test rows are never looked at.
 */
export function tuneOnTraining(training: TrainingSet, forest: ForestOptions): NonNullable<EvaluationResult['tuned']> {
  const candidates = TUNING_GRID.windows.flatMap(window =>
    TUNING_GRID.minLeafRows.map(minLeafRows => ({
      window,
      minLeafRows,
      validationAuc: RiskModel.evaluate(training, { trainFraction: 0.8, window, forest: { ...forest, minLeafRows } }).validation.auc,
    })),
  );
  const best = candidates.reduce((a, b) => (b.validationAuc > a.validationAuc ? b : a));
  return { ...best, candidates };
}

/** Reads a CSV into records of strings, naming the file in errors. */
export function readCsv(text: string, file: string): Record<string, string>[] {
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new Error(`${file} is not a CSV with a header row: ${(error as Error).message}`);
  }
}

/** A time value: a number, or a date such as 2001/12/12 17:41 or an ISO timestamp. */
function timeOf(value: string): number {
  const n = Number(value);
  if (value !== '' && Number.isFinite(n)) return n;
  const t = Date.parse(value.replace(/^(\d{4})\/(\d{2})\/(\d{2})/, '$1-$2-$3'));
  return t;
}

/**
 * Builds a time-ordered training set from CSV records: the label column as 0/1, the features
 * (given, or every numeric column but the label, the time and id-like columns), oldest first.
 */
export function trainingSetFromCsv(
  records: Record<string, string>[],
  options: { label: string; time?: string; features?: string[] },
): TrainingSet {
  if (records.length === 0) throw new Error('The CSV has no rows');
  const columns = Object.keys(records[0]);
  const need = (column: string, what: string) => {
    if (!columns.includes(column)) throw new Error(`No column '${column}' (${what}); columns: ${columns.join(', ')}`);
  };
  need(options.label, '--label');
  if (options.time) need(options.time, '--time');
  const features =
    options.features ??
    columns.filter(
      c =>
        c !== options.label &&
        c !== options.time &&
        !/(^|_)id$|transactionid|commit|hash|sha/i.test(c) &&
        records.every(r => r[c] === '' || Number.isFinite(Number(r[c]))),
    );
  features.forEach(f => need(f, '--features'));
  let ordered = records;
  if (options.time) {
    const times = records.map(r => timeOf(r[options.time!]));
    const bad = times.findIndex(t => !Number.isFinite(t));
    if (bad >= 0) throw new Error(`Row ${bad + 2}: '${records[bad][options.time]}' in ${options.time} is not a time`);
    ordered = records.map((r, i) => ({ r, t: times[i], i })).sort((a, b) => a.t - b.t || a.i - b.i).map(x => x.r);
  }
  const labels = ordered.map((r, i) => {
    const v = r[options.label].toLowerCase();
    if (['1', 'true', 'yes'].includes(v)) return 1;
    if (['0', 'false', 'no'].includes(v)) return 0;
    throw new Error(`Row ${i + 2}: label '${r[options.label]}' in ${options.label} is not 0/1`);
  });
  const rows = ordered.map(r => features.map(f => (r[f] === '' ? NaN : Number(r[f]))));
  return { features, rows, labels };
}

/**
 * Trains on the oldest `trainFraction` of the rows and tests on the rest, and compares with the
 * best single feature on the same split (its direction chosen on the training rows).
 */
export function evaluateCsv(
  set: TrainingSet,
  options: { trainFraction: number; forest?: ForestOptions; window?: number; tune?: boolean },
): EvaluationResult {
  const cut = Math.floor(set.rows.length * options.trainFraction);
  const forest = options.forest ?? DEFAULT_FOREST_OPTIONS;
  const tuned = options.tune ? tuneOnTraining({ ...set, rows: set.rows.slice(0, cut), labels: set.labels.slice(0, cut) }, forest) : undefined;
  const { validation } = RiskModel.evaluate(set, {
    trainFraction: options.trainFraction,
    forest: tuned ? { ...forest, minLeafRows: tuned.minLeafRows } : forest,
    window: tuned ? tuned.window : options.window,
  });
  let best = { feature: '', auc: -Infinity };
  set.features.forEach((feature, j) => {
    const column = (rows: number[][]) => rows.map(r => (Number.isFinite(r[j]) ? r[j] : -Infinity));
    const trainAuc = rocAuc(column(set.rows.slice(0, cut)), set.labels.slice(0, cut));
    const sign = trainAuc >= 0.5 ? 1 : -1;
    const auc = rocAuc(column(set.rows.slice(cut)).map(v => sign * v), set.labels.slice(cut));
    if (auc > best.auc) best = { feature: sign > 0 ? feature : `-${feature}`, auc };
  });
  return {
    auc: validation.auc,
    prAuc: validation.prAuc,
    brier: validation.brier,
    trainRows: validation.trainRows,
    testRows: validation.testRows,
    trainSeconds: validation.trainSeconds,
    bestSingleFeature: best,
    features: set.features,
    ...(tuned && { tuned }),
  };
}

const OUTCOMES: Record<string, 0 | 1> = { '0': 0, '1': 1, succeeded: 0, success: 0, ok: 0, rolled_back: 1, rollback: 1, failed: 1, failure: 1 };

/**
 * Reads historical deployments for `release-pilot risk import`: columns `entity`, `at` (ISO time),
 * `outcome` (succeeded / rolled_back / failed, or 0 / 1), optionally `author`, and any of the risk
 * model's feature names (empty cells are unknown). Other columns are refused with the known names.
 */
export function deploymentsFromCsv(records: Record<string, string>[], knownFeatures: string[]) {
  if (records.length === 0) throw new Error('The CSV has no rows');
  const columns = Object.keys(records[0]);
  for (const required of ['entity', 'at', 'outcome']) {
    if (!columns.includes(required)) throw new Error(`No column '${required}'; the columns are entity, at, outcome, author and feature names`);
  }
  const featureColumns = columns.filter(c => !['entity', 'at', 'outcome', 'author'].includes(c));
  const unknown = featureColumns.filter(c => !knownFeatures.includes(c));
  if (unknown.length) throw new Error(`Unknown column ${unknown.join(', ')}; feature columns: ${knownFeatures.join(', ')}`);
  return records.map((r, i) => {
    const row = i + 2;
    const at = new Date(r.at);
    if (Number.isNaN(at.getTime())) throw new Error(`Row ${row}: '${r.at}' in at is not a time (use ISO 8601, e.g. 2026-03-01T10:00:00Z)`);
    const outcome = OUTCOMES[r.outcome.toLowerCase()];
    if (outcome === undefined) throw new Error(`Row ${row}: outcome '${r.outcome}' is not succeeded, rolled_back, failed, 0 or 1`);
    const features: Record<string, number> = {};
    for (const c of featureColumns) {
      if (r[c] === '') continue;
      const value = Number(r[c]);
      if (!Number.isFinite(value)) throw new Error(`Row ${row}: '${r[c]}' in ${c} is not a number`);
      features[c] = value;
    }
    return { entityRef: r.entity, at: at.toISOString(), outcome, ...(r.author && { author: r.author }), features };
  });
}
