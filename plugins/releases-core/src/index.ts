/**
 * Release Pilot's core: the release engine, the judges, plans and the risk model, pure of Backstage's
 * backend services. The backend plugin and the CLI both build on it.
 *
 * @packageDocumentation
 */
export * from './judges/FixedRuleJudge';
export * from './configNumber';
export * from './math/normal';
export * from './simulation/drawTraffic';
export * from './simulation/gateTraffic';
export * from './simulation/random';
export * from './judges/JudgeCatalog';
export * from './judges/ThresholdJudge';
export * from './judges/brent';
export * from './judges/judge';
export * from './judges/kayenta/KayentaJudge';
export * from './judges/kayenta/classifier';
export * from './judges/kayenta/mannWhitney';
export * from './judges/kayenta/scoring';
export * from './judges/recovery/recovery';
export * from './judges/sequential/SequentialJudge';
export * from './judges/sequential/rateRatioTest';
export * from './judges/sequential/detectableEffect';
export * from './judges/watch/WatchJudge';
export * from './judges/watch/seasonal';
export * from './engine/analysis';
export * from './engine/clock';
export * from './engine/engine';
export * from './engine/errors';
export { operationSide } from './engine/lifecycle';
export * from './engine/planPolicy';
export * from './engine/plans';
export * from './engine/types';
export * from './resilience/experimentJudge';
export * from './resilience/gate';
export * from './risk/RiskModel';
export * from './risk/calibration';
export * from './risk/features';
export * from './risk/forest';
export * from './risk/histogramSplits';
export * from './risk/metrics';
export * from './risk/prior';
export * from './risk/trainInWorker';
export * from './risk/trainJob';
export * from './waves/regionRollout';
export * from './waves/wavePlan';
