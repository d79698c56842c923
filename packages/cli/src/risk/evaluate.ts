import { DEFAULT_FOREST_OPTIONS, ForestOptions, RiskModel, rocAuc, TrainingSet } from '@release-pilot/plugin-releases-backend';
import { parse } from 'csv-parse/sync';

/** What `release-pilot risk evaluate --json` prints. */
export interface EvaluationResult {
  auc: number;
  prAuc: number;
  brier: number;
  trainRows: number;
  testRows: number;
  trainSeconds: number;
  bestSingleFeature: { feature: string; auc: number };
  features: string[];
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
  options: { trainFraction: number; forest?: ForestOptions; window?: number },
): EvaluationResult {
  const { validation } = RiskModel.evaluate(set, {
    trainFraction: options.trainFraction,
    forest: options.forest ?? DEFAULT_FOREST_OPTIONS,
    window: options.window,
  });
  const cut = Math.floor(set.rows.length * options.trainFraction);
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
  };
}
