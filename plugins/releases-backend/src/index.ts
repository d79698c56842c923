/**
 * Release Pilot's backend plugin: the release engine, the judge, the store and the HTTP API.
 *
 * @packageDocumentation
 */
export { releasesPlugin as default } from './plugin';
export { handleReleaseEvent } from './engine/engine';
export type { EngineEvent, EngineResult, EngineAction } from './engine/engine';
export { VirtualClock, systemClock } from './engine/clock';
export type { Clock } from './engine/clock';
export { FixedRuleJudge } from './analysis/FixedRuleJudge';
export type { Judge, JudgeInput } from './analysis/judge';
