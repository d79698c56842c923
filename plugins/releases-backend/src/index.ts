/**
 * Release Pilot's backend plugin: the release engine, the judge, the store and the HTTP API.
 *
 * @packageDocumentation
 */
export { releasesPlugin as default } from './plugin';
export { handleReleaseEvent, analysisWindowStart, DEFAULT_ENGINE_OPTIONS } from './engine/engine';
export type { EngineEvent, EngineResult, EngineAction, EngineOptions, AnalysisLimits, ReleaseAnalysis } from './engine/engine';
export { VirtualClock, systemClock } from './engine/clock';
export type { Clock } from './engine/clock';
export { FixedRuleJudge, DEFAULT_FIXED_RULE_OPTIONS } from './analysis/FixedRuleJudge';
export { DEFAULT_PLAN } from './engine/plans';
export type { Judge, JudgeInput } from './analysis/judge';
export { SequentialJudge, DEFAULT_SEQUENTIAL_OPTIONS } from './analysis/sequential/SequentialJudge';
export type { SequentialJudgeOptions } from './analysis/sequential/SequentialJudge';
export { KayentaJudge, DEFAULT_KAYENTA_OPTIONS } from './analysis/kayenta/KayentaJudge';
export { classifyMetric } from './analysis/kayenta/classifier';
export { scoreCanaryRun } from './analysis/kayenta/scoring';
export type { JudgeResult } from './analysis/judge';
export { ThresholdJudge } from './analysis/ThresholdJudge';
export type { ThresholdJudgeOptions, ThresholdMetric } from './analysis/ThresholdJudge';
export { WatchJudge, DEFAULT_WATCH_OPTIONS } from './analysis/watch/WatchJudge';
export type { WatchOptions, WatchInput } from './analysis/watch/WatchJudge';
export { JudgeCatalog } from './analysis/JudgeCatalog';
export { readReleasesConfig } from './config';
export type { ReleasesConfig } from './config';
export { RiskModel } from './risk/RiskModel';
export type { SerializedRiskModel, TrainingSet, ValidationFigures, FeatureContribution } from './risk/RiskModel';
export { rocAuc, prAuc, brierScore } from './risk/metrics';
export { DEFAULT_FOREST_OPTIONS, DEFAULT_TRAIN_WINDOW } from './risk/forest';
export type { ForestOptions } from './risk/forest';
export { RISK_FEATURES, metadataFeatures, historyFeatures, toRow } from './risk/features';
export { trainInWorker } from './risk/trainInWorker';
export { priorAssessment } from './risk/prior';
// The driver's parts, for tools that run it outside a Backstage backend (the reliability run's replicas).
export { ReleasesStore } from './database/ReleasesStore';
export { ReleaseDriver } from './driver/ReleaseDriver';
export type { ReleaseDriverOptions } from './driver/ReleaseDriver';
export { TargetRegistry } from './driver/TargetRegistry';
