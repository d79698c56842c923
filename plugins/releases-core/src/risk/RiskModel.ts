import { brierScore, prAuc, rocAuc } from './metrics';
import { calibrate, fitPlatt, PlattCalibration } from './calibration';
import { DEFAULT_FOREST_OPTIONS, DEFAULT_TRAIN_WINDOW, FlatForest, forestScore, ForestOptions, growForest } from './forest';

/** One feature's push on one prediction: the risk with the feature at its usual value, and without. */
export interface FeatureContribution {
  feature: string;
  value: number | undefined;
  usual: number;
  /** Probability with this feature's value minus with its usual (training median) value. */
  effect: number;
}

/** How well the model did on the newest part of its history, never seen in training. */
export interface ValidationFigures {
  auc: number;
  prAuc: number;
  brier: number;
  trainRows: number;
  testRows: number;
  trainSeconds: number;
  failureRate: number;
}

/** Everything a trained model is, as stored in the database. */
export interface SerializedRiskModel {
  version: 1;
  features: string[];
  medians: number[];
  forest: FlatForest;
  calibration: PlattCalibration;
  trainedAt: string;
  rows: number;
  validation?: ValidationFigures;
}

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Training rows in time order (oldest first): features (NaN when missing) and the outcome. */
export interface TrainingSet {
  features: string[];
  rows: number[][];
  labels: number[];
}

/**
 * The release risk model: a random forest over release features, its output calibrated to a
 * probability on held-out newer history (Platt scaling), and explained per prediction by what each
 * feature adds over its usual value. Missing values are imputed with the training median.
 */
export class RiskModel {
  private constructor(private readonly model: SerializedRiskModel) {}

  get features(): string[] {
    return this.model.features;
  }

  get trainedAt(): string {
    return this.model.trainedAt;
  }

  get rows(): number {
    return this.model.rows;
  }

  get validation(): ValidationFigures | undefined {
    return this.model.validation;
  }

  static fromJSON(model: SerializedRiskModel): RiskModel {
    if (model.version !== 1) throw new Error(`Unknown risk model version ${model.version}`);
    return new RiskModel(model);
  }

  toJSON(): SerializedRiskModel {
    return this.model;
  }

  /**
   * Trains on time-ordered history, its newest `window` rows. The newest `calibrationFraction` is held out: a forest grown on
   * the older rows scores it, Platt scaling is fitted on those scores, and the final forest is grown
   * on all rows. With `validate`, the model is first trained on the oldest `1 - validationFraction`
   * and tested on the newest rows, and those figures are kept with it.
   */
  static train(
    all: TrainingSet,
    options: { forest?: ForestOptions; calibrationFraction?: number; window?: number; now?: Date } = {},
  ): RiskModel {
    const window = options.window ?? DEFAULT_TRAIN_WINDOW;
    const set = { ...all, rows: all.rows.slice(-window), labels: all.labels.slice(-window) };
    const forestOptions = options.forest ?? DEFAULT_FOREST_OPTIONS;
    const calibrationFraction = options.calibrationFraction ?? 0.2;
    const medians = set.features.map((_, j) => median(set.rows.map(r => r[j])));
    const impute = (row: number[]) => row.map((v, j) => (Number.isFinite(v) ? v : medians[j]));
    const rows = set.rows.map(impute);
    const cut = Math.floor(rows.length * (1 - calibrationFraction));
    let calibration: PlattCalibration = { a: 1, b: 0 };
    const older = set.labels.slice(0, cut);
    const newer = set.labels.slice(cut);
    if (older.includes(0) && older.includes(1) && newer.length >= 20) {
      // Half the trees are enough to learn how scores map to rates, at half the cost.
      const early = growForest(rows.slice(0, cut), older, { ...forestOptions, trees: Math.max(10, Math.round(forestOptions.trees / 2)) });
      calibration = fitPlatt(rows.slice(cut).map(r => forestScore(early, r)), newer);
    }
    const forest = growForest(rows, set.labels, forestOptions);
    return new RiskModel({
      version: 1,
      features: set.features,
      medians,
      forest,
      calibration,
      trainedAt: (options.now ?? new Date()).toISOString(),
      rows: rows.length,
    });
  }

  /** Trains on the oldest rows and tests on the newest (never a random split). */
  static evaluate(
    set: TrainingSet,
    options: { trainFraction?: number; forest?: ForestOptions; window?: number } = {},
  ): { model: RiskModel; validation: ValidationFigures; testScores: number[]; testLabels: number[] } {
    const cut = Math.floor(set.rows.length * (options.trainFraction ?? 0.8));
    const started = process.hrtime.bigint();
    const model = RiskModel.train(
      { ...set, rows: set.rows.slice(0, cut), labels: set.labels.slice(0, cut) },
      { forest: options.forest, window: options.window },
    );
    const trainSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const testRows = set.rows.slice(cut);
    const testLabels = set.labels.slice(cut);
    const probabilities = testRows.map(r => model.probability(r));
    const validation: ValidationFigures = {
      auc: rocAuc(probabilities, testLabels),
      prAuc: prAuc(probabilities, testLabels),
      brier: brierScore(probabilities, testLabels),
      trainRows: Math.min(cut, options.window ?? DEFAULT_TRAIN_WINDOW),
      testRows: testRows.length,
      trainSeconds,
      failureRate: set.labels.slice(0, cut).reduce((a, b) => a + b, 0) / Math.max(1, cut),
    };
    return { model, validation, testScores: probabilities, testLabels };
  }

  /** With validation figures attached (for storage with the model). */
  withValidation(validation: ValidationFigures): RiskModel {
    return new RiskModel({ ...this.model, validation });
  }

  private impute(row: ArrayLike<number>): number[] {
    return Array.from(row, (v, j) => (Number.isFinite(v) ? v : this.model.medians[j]));
  }

  /** The calibrated probability that a release with these features fails. */
  probability(row: ArrayLike<number>): number {
    return calibrate(this.model.calibration, forestScore(this.model.forest, this.impute(row)));
  }

  /**
   * The probability and each known feature's effect: the probability minus what it would be with
   * that feature at its usual (median) value, the others as they are. Largest effects first.
   */
  explain(row: ArrayLike<number>): { probability: number; contributions: FeatureContribution[] } {
    const values = this.impute(row);
    const probability = calibrate(this.model.calibration, forestScore(this.model.forest, values));
    const contributions: FeatureContribution[] = [];
    for (let j = 0; j < values.length; j++) {
      if (!Number.isFinite(row[j])) continue;
      const usual = this.model.medians[j];
      if (values[j] === usual) continue;
      const swapped = values.slice();
      swapped[j] = usual;
      const without = calibrate(this.model.calibration, forestScore(this.model.forest, swapped));
      contributions.push({ feature: this.model.features[j], value: row[j], usual, effect: probability - without });
    }
    contributions.sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
    return { probability, contributions };
  }
}
