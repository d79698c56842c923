/**
 * Release Pilot's core: the release engine, the judges, plans and the risk model, pure of Backstage's
 * backend services. The backend plugin and the CLI both build on it.
 *
 * @packageDocumentation
 */
export * from './analysis/FixedRuleJudge';
export * from './configNumber';
export * from './math/normal';
export * from './simulation/drawTraffic';
export * from './simulation/random';
export * from './analysis/JudgeCatalog';
export * from './analysis/ThresholdJudge';
export * from './analysis/brent';
export * from './analysis/judge';
export * from './analysis/kayenta/KayentaJudge';
export * from './analysis/kayenta/classifier';
export * from './analysis/kayenta/mannWhitney';
export * from './analysis/kayenta/scoring';
export * from './analysis/recovery/recovery';
export * from './analysis/sequential/SequentialJudge';
export * from './analysis/sequential/rateRatioTest';
export * from './analysis/watch/WatchJudge';
export * from './analysis/watch/seasonal';
export * from './engine/analysis';
export * from './engine/clock';
export * from './engine/engine';
export * from './engine/errors';
export * from './engine/lifecycle';
export * from './engine/planPolicy';
export * from './engine/plans';
export * from './engine/types';
export * from './risk/RiskModel';
export * from './risk/calibration';
export * from './risk/features';
export * from './risk/forest';
export * from './risk/histogramSplits';
export * from './risk/metrics';
export * from './risk/prior';
export * from './risk/trainInWorker';
export * from './risk/trainJob';
