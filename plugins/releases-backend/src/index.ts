/**
 * Release Pilot's backend plugin: the release driver, the store and the HTTP API. The engine, the
 * judges and the risk model are in `@release-pilot/plugin-releases-core`.
 *
 * @packageDocumentation
 */
export { releasesPlugin as default } from './plugin';
